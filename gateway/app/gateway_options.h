// roomcast's options: command line over drop-ins over the config file (Boost.Program_options via
// config_loader).
//
// Start-up code only: throws rc::StartupError (64 usage, 78 config).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rc::gateway {

struct GatewayOptions
{
    std::string configFile; // --config FILE ("" = none found)
    std::vector<std::string> configFiles; // every file read, in order (config, then drop-ins)
    std::string signalingUrl; // --signaling-url URL (ws:// or wss://)
    std::string signalingCaFile; // --signaling-ca-file PEM ("" = the system's CAs for wss://)
    std::string tokenFile; // --token-file PATH ("" = no token; see readTokenFile)
    std::vector<std::string> rooms; // --room NAME, repeatable (room-protocol names)
    std::vector<std::string> pipelines; // --pipeline NAME, repeatable (default {"record-mkv"})
    std::vector<std::string>
        pipelinesDirs; // search order: every --pipelines-dir, then the defaults
    std::string recordingsDir; // --recordings-dir DIR (default $STATE_DIRECTORY or ./recordings)
    std::vector<std::string>
        iceLocalAddresses; // --ice-local-address ADDR, repeatable (IPv4/IPv6 literal)
    std::string stunServer, turnServer; // stun://host[:port]; turn(s)://user:pass@host[:port]
    bool relayOnly = false; // --ice-transport-policy relay
    int videoMinBitrateKbps = 300; // --video-min-bitrate KBPS
    int videoStartBitrateKbps = 1500; // --video-start-bitrate KBPS
    int videoMaxBitrateKbps = 4000; // --video-max-bitrate KBPS
    std::chrono::milliseconds finalizeTimeout { 5000 }; // --finalize-timeout MS
    // --resume-window S: a restart continues a room's unfinished session this recent.
    std::chrono::seconds resumeWindow { 600 };
    // --participant-grace S: neither media nor a connection this long ends a participant
    // (until then its ICE is restarted with backoff).
    std::chrono::seconds participantGrace { 600 };
    std::string logLevel = "info"; // --log-level debug|info|warning|error
    bool checkConfig = false; // --check-config
    // Template parameters by name ("--param NAME=VALUE", repeatable; "--rtmp-url URL" is
    // short for "--param rtmp_url=URL"). Each applies to every active template that
    // declares NAME and is checked against that declaration when the template is
    // loaded (see resolveTemplateParams); never pasted into a pipeline unchecked.
    std::map<std::string, std::string> templateParams;

    // Control API (docs/openapi.yaml).
    bool apiEnabled = true; // --api-listen none: off
    std::string apiHost = "127.0.0.1"; // --api-listen HOST:PORT (default 127.0.0.1:8081)
    uint16_t apiPort = 8081;
    std::string apiTokenFile; // --api-token-file PATH; required off loopback
    std::string whepTokenSecretFile; // --whep-token-secret-file PATH: viewer JWTs' HS256 key
    std::string apiTlsCertificate, apiTlsKey; // --api-tls-certificate/--api-tls-key (PEM)
    std::vector<std::string> corsOrigins; // --cors-origin (repeatable): browser origins, or *
    // Webhooks (see ops/webhook_dispatcher.h).
    std::vector<std::string> webhookUrls; // --webhook-url URL, repeatable, http(s)
    std::string webhookSecretFile; // --webhook-secret-file PATH (required with URLs)
    int webhookQueue = 1000; // --webhook-queue N events per receiver
    // The command line as given, so that SIGHUP re-reads the config with it.
    std::vector<std::string> argv;
};

// The default config file: ROOMCAST_SYSCONFDIR "/roomcast.conf" (read only if it exists).
std::string defaultConfigFile();
// Drop-ins of a config file: "<config>.d/*.conf" in lexical order
// (e.g. /etc/roomcast/roomcast.conf.d/), so roomcast and roomcast-signal
// can share /etc/roomcast without sharing drop-ins.
std::string dropInDirFor(const std::string &configFile);
// The built-in template folders: the source tree's pipelines/ first when this
// executable runs from inside the source tree (uninstalled), then the
// installed ROOMCAST_DATADIR "/pipelines".
std::vector<std::string> defaultPipelinesDirs();

// Parses argv + the config file + its drop-ins (later files override earlier;
// the command line wins). Returns nullopt after printing --help/--version
// output (the caller exits 0). Throws StartupError(64) for bad command-line
// options or values, (78) for config errors naming file:line.
std::optional<GatewayOptions> parseGatewayOptions(int argc, const char *const argv[]);

// Checks the cross-option rules (bitrate order, a token for a non-loopback
// API, a secret for webhooks) and that the token files, the webhook secret and
// the recordings folder are usable; throws StartupError(78). parseGatewayOptions
// already checked each value's syntax.
void validateGatewayOptions(const GatewayOptions &options);

// The token: the file's content with trailing whitespace removed. False with
// error when it cannot be read or is empty. Safe to call again (token rotation).
bool readTokenFile(const std::string &path, std::string &token, std::string &error);

// Syntax checks, exposed for tests and for the room server's sake.
bool isValidRoomName(const std::string &room) noexcept; // [A-Za-z0-9_-]{1,64}
bool isValidIpAddress(const std::string &address) noexcept; // IPv4 or IPv6 literal
bool isValidSignalingUrl(const std::string &url, std::string &why);
bool isValidStunUrl(const std::string &url, std::string &why);
bool isValidTurnUrl(const std::string &url, std::string &why);
bool isValidWebhookUrl(const std::string &url, std::string &why); // http(s), no credentials

} // namespace rc::gateway
