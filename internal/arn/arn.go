// Package arn builds and parses the Amazon Resource Names the service hands
// out, shaped exactly like AgentCore's so that IAM-style tooling and users'
// ARN parsing keep working.
package arn

import (
	"fmt"
	"strings"
)

// Service is the ARN namespace of AgentCore resources.
const Service = "bedrock-agentcore"

// ARN is a parsed ARN.
type ARN struct {
	Partition string
	Service   string
	Region    string
	Account   string
	Resource  string
}

func (a ARN) String() string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", a.Partition, a.Service, a.Region, a.Account, a.Resource)
}

// Parse splits an ARN into its six parts.
func Parse(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return ARN{}, fmt.Errorf("arn: %q is not an ARN", s)
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}

func build(region, account, resource string) string {
	return ARN{Partition: "aws", Service: Service, Region: region, Account: account, Resource: resource}.String()
}

// Resource path prefixes inside the bedrock-agentcore namespace.
const (
	WorkloadIdentityPrefix   = "workload-identity-directory/default/workload-identity/"
	OAuth2ProviderPrefix     = "token-vault/default/oauth2credentialprovider/"
	APIKeyProviderPrefix     = "token-vault/default/apikeycredentialprovider/"
	TokenVaultPrefix         = "token-vault/"
	WorkloadDirectoryDefault = "workload-identity-directory/default"
)

// WorkloadIdentity is the ARN of a workload identity.
func WorkloadIdentity(region, account, name string) string {
	return build(region, account, WorkloadIdentityPrefix+name)
}

// OAuth2Provider is the ARN of an OAuth2 credential provider.
func OAuth2Provider(region, account, name string) string {
	return build(region, account, OAuth2ProviderPrefix+name)
}

// APIKeyProvider is the ARN of an API-key credential provider.
func APIKeyProvider(region, account, name string) string {
	return build(region, account, APIKeyProviderPrefix+name)
}

// TokenVault is the ARN of a token vault.
func TokenVault(region, account, id string) string {
	return build(region, account, TokenVaultPrefix+id)
}

// Secret is the ARN of the secret that backs a provider's client secret or
// API key, in the shape AgentCore uses (a Secrets Manager ARN with a random
// six-character suffix). kind is "oauth2" or "apikey".
func Secret(region, account, kind, name, suffix string) string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:bedrock-agentcore-identity!default/%s/%s-%s", region, account, kind, name, suffix)
}

// IAMUser is the ARN of an IAM user.
func IAMUser(account, name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:user/%s", account, name)
}
