package loadgen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Request is a pre-serialized AWS request: body and payload hash are
// computed once, and only the signature changes from one send to the next.
// It is immutable and may be shared by workers.
type Request struct {
	Method      string
	Path        string // with query, if any
	ContentType string
	// Service and Region form the SigV4 credential scope.
	Service string
	Region  string
	Body    []byte
	hash    string
}

// NewRequest builds a request template.
func NewRequest(method, path, contentType, service, region string, body []byte) *Request {
	sum := sha256.Sum256(body)
	return &Request{Method: method, Path: path, ContentType: contentType, Service: service, Region: region,
		Body: body, hash: hex.EncodeToString(sum[:])}
}

// Client sends Requests to one or more base URLs with SigV4. With several
// URLs (replicas) each connection sends its requests round robin.
type Client struct {
	http   *http.Client
	urls   []string
	creds  aws.Credentials
	signer *v4.Signer
}

// NewClient returns a client keeping up to maxConns keep-alive connections
// per URL, so that N workers hold N connections.
func NewClient(urls []string, creds aws.Credentials, maxConns int) *Client {
	t := &http.Transport{
		MaxIdleConns:        maxConns * len(urls),
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &Client{
		http:   &http.Client{Transport: t, Timeout: time.Minute},
		urls:   urls,
		creds:  creds,
		signer: v4.NewSigner(),
	}
}

// Close drops idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Conn is one worker's sender: it holds the signature cache and the
// round-robin position. It is not safe for concurrent use.
type Conn struct {
	c     *Client
	next  int
	cache map[sigKey]sigEntry
	body  bytes.Buffer
}

type sigKey struct {
	req *Request
	url int
}

// sigEntry is a signature valid for one second. X-Amz-Date has a
// resolution of one second, so re-signing within that second yields the
// same headers: reusing them is what signing every request with a fresh
// X-Amz-Date does, without spending client CPU the server needs.
type sigEntry struct {
	unix  int64
	auth  string
	date  string
	token string
}

// Conn returns a new sender.
func (c *Client) Conn() *Conn { return &Conn{c: c, cache: map[sigKey]sigEntry{}} }

// Response is a received response. Body is valid until the next Do on the
// same Conn.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do signs and sends r to the next URL and reads the whole response.
func (k *Conn) Do(ctx context.Context, r *Request) (Response, error) {
	i := k.next % len(k.c.urls)
	k.next++
	req, err := http.NewRequestWithContext(ctx, r.Method, k.c.urls[i]+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		return Response{}, err
	}
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	if err := k.sign(ctx, req, r, i); err != nil {
		return Response{}, err
	}
	resp, err := k.c.http.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	k.body.Reset()
	if _, err := k.body.ReadFrom(resp.Body); err != nil {
		return Response{}, fmt.Errorf("read response: %w", err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: k.body.Bytes()}, nil
}

func (k *Conn) sign(ctx context.Context, req *http.Request, r *Request, url int) error {
	now := time.Now().UTC()
	key := sigKey{r, url}
	if e, ok := k.cache[key]; ok && e.unix == now.Unix() {
		req.Header.Set("Authorization", e.auth)
		req.Header.Set("X-Amz-Date", e.date)
		if e.token != "" {
			req.Header.Set("X-Amz-Security-Token", e.token)
		}
		return nil
	}
	if err := k.c.signer.SignHTTP(ctx, k.c.creds, req, r.hash, r.Service, r.Region, now); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	k.cache[key] = sigEntry{unix: now.Unix(), auth: req.Header.Get("Authorization"),
		date: req.Header.Get("X-Amz-Date"), token: req.Header.Get("X-Amz-Security-Token")}
	return nil
}

// ErrStatus is wrapped by the error of a non-2xx response.
var ErrStatus = errors.New("unexpected HTTP status")

// CheckOK fails unless the response is 2xx, naming the AWS error code and
// the start of the body.
func CheckOK(resp Response) error {
	if resp.Status/100 == 2 {
		return nil
	}
	body := resp.Body
	if len(body) > 300 {
		body = body[:300]
	}
	code := resp.Header.Get("X-Amzn-Errortype")
	return fmt.Errorf("%w %d %s: %s", ErrStatus, resp.Status, code, bytes.TrimSpace(body))
}
