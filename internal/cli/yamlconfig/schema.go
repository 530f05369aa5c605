// Package yamlconfig reads and writes the project file .bedrock_agentcore.yaml
// that the starter toolkit's `configure`, `launch`, `invoke` and `identity`
// commands share. Edits go through the YAML node tree, so keys this package
// does not model, comments and key order survive a round trip.
package yamlconfig

// FileName is the project file, read from the working directory.
const FileName = ".bedrock_agentcore.yaml"

// Config is the whole file. Field order is the toolkit's (pydantic
// model_dump with sort_keys=False), which new files follow.
type Config struct {
	DefaultAgent string            `yaml:"default_agent"`
	Agents       map[string]*Agent `yaml:"agents"`
}

// Agent is one agents.<name> entry.
type Agent struct {
	Name             string `yaml:"name"`
	Language         string `yaml:"language,omitempty"`
	NodeVersion      string `yaml:"node_version,omitempty"`
	Entrypoint       string `yaml:"entrypoint"`
	DeploymentType   string `yaml:"deployment_type,omitempty"`
	RuntimeType      string `yaml:"runtime_type,omitempty"`
	Platform         string `yaml:"platform,omitempty"`
	ContainerRuntime string `yaml:"container_runtime,omitempty"`
	SourcePath       string `yaml:"source_path,omitempty"`

	AWS              *AWS              `yaml:"aws,omitempty"`
	BedrockAgentCore *BedrockAgentCore `yaml:"bedrock_agentcore"`
	Identity         *Identity         `yaml:"identity"`
	AWSJWT           *AWSJWT           `yaml:"aws_jwt"`

	// The authorizer and header configurations are stored verbatim: they
	// are passed to CreateAgentRuntime unchanged.
	AuthorizerConfiguration    map[string]any      `yaml:"authorizer_configuration"`
	RequestHeaderConfiguration map[string]any      `yaml:"request_header_configuration"`
	OAuthConfiguration         *OAuthConfiguration `yaml:"oauth_configuration"`

	APIKeyEnvVarName             string `yaml:"api_key_env_var_name,omitempty"`
	APIKeyCredentialProviderName string `yaml:"api_key_credential_provider_name,omitempty"`
	IsGeneratedByAgentCoreCreate bool   `yaml:"is_generated_by_agentcore_create,omitempty"`
}

// AWS is the deployment target of an agent. Only the fields the identity
// and runtime commands read are modelled; the rest is preserved untouched.
type AWS struct {
	ExecutionRole           string `yaml:"execution_role,omitempty"`
	ExecutionRoleAutoCreate bool   `yaml:"execution_role_auto_create,omitempty"`
	Account                 string `yaml:"account,omitempty"`
	Region                  string `yaml:"region,omitempty"`
}

// BedrockAgentCore records the deployed runtime and the last session.
type BedrockAgentCore struct {
	AgentID        *string `yaml:"agent_id"`
	AgentARN       *string `yaml:"agent_arn"`
	AgentSessionID *string `yaml:"agent_session_id"`
}

// Identity lists the resources `agentcore identity` created for the agent.
type Identity struct {
	CredentialProviders []CredentialProvider `yaml:"credential_providers"`
	Workload            *Workload            `yaml:"workload"`
}

// CredentialProvider is one identity.credential_providers entry. Type is
// the CLI type it was created with (cognito, github, api_key, ...).
type CredentialProvider struct {
	Name        string `yaml:"name"`
	ARN         string `yaml:"arn"`
	Type        string `yaml:"type"`
	CallbackURL string `yaml:"callback_url"`
}

// Workload is the agent's workload identity.
type Workload struct {
	Name       string   `yaml:"name"`
	ARN        string   `yaml:"arn"`
	ReturnURLs []string `yaml:"return_urls"`
}

// AWSJWT configures AWS IAM outbound JWTs (STS GetWebIdentityToken).
type AWSJWT struct {
	Enabled          bool     `yaml:"enabled"`
	Audiences        []string `yaml:"audiences"`
	SigningAlgorithm string   `yaml:"signing_algorithm"`
	IssuerURL        *string  `yaml:"issuer_url"`
	DurationSeconds  int      `yaml:"duration_seconds"`
}

// DefaultAWSJWT is the toolkit's default (disabled) aws_jwt block.
func DefaultAWSJWT() AWSJWT {
	return AWSJWT{Audiences: []string{}, SigningAlgorithm: "ES384", DurationSeconds: 300}
}

// OAuthConfiguration is local-only state of `invoke --local`.
type OAuthConfiguration struct {
	WorkloadName string `yaml:"workload_name,omitempty"`
	UserID       string `yaml:"userId,omitempty"`
}
