#!/usr/bin/env python3
"""Keeps docs/openapi.yaml in step with the control API's code.

Checks that the document parses as OpenAPI 3, documents exactly the routes
ControlApi serves, requires bearer auth everywhere, gives every operation a
401 and JSON Error bodies for every error status, lists every error code
that gateway/ops can send and every metric family it registers. Usage: check_openapi.py OPENAPI_YAML OPS_SOURCE_DIR
Exit 77 (skip) without PyYAML.
"""
import os
import re
import sys

try:
    import yaml
except ImportError:
    print("PyYAML missing: skipping")
    sys.exit(77)

# The routes ControlApi::handle serves, and their methods.
ROUTES = {
    "/healthz": {"get"},
    "/metrics": {"get"},
    "/v1/rooms": {"get"},
    "/v1/rooms/{room}": {"delete"},
    "/v1/rooms/{room}/outputs": {"post"},
    "/v1/rooms/{room}/outputs/{id}": {"delete"},
    "/v1/rooms/{room}/outputs/{id}/pause": {"post"},
    "/v1/rooms/{room}/outputs/{id}/resume": {"post"},
    # ControlApi::addSdpEndpoint("whep", ...) (gateway/app/whep_endpoint.cpp)
    "/whep/{room}": {"post"},
    "/whep/{room}/{session}": {"delete", "patch"},
    # SDP endpoints (ControlApi::addSdpEndpoint): WHIP, gateway/app/whip_endpoint.cpp.
    "/whip/{room}": {"post"},
    "/whip/{room}/{session}": {"delete", "patch"},
}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def main(doc_path, src_dir):
    failures = []
    with open(doc_path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)

    def resolve(node):
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            node = doc
            for part in ref[2:].split("/"):
                node = node[part]
        return node

    if not str(doc.get("openapi", "")).startswith("3."):
        failures.append("not an OpenAPI 3 document")
    if doc.get("security") != [{"bearer": []}]:
        failures.append("bearer auth is not required globally")
    scheme = doc["components"]["securitySchemes"]["bearer"]
    if scheme.get("type") != "http" or scheme.get("scheme") != "bearer":
        failures.append("the bearer security scheme is not http/bearer")

    paths = doc.get("paths", {})
    if set(paths) != set(ROUTES):
        failures.append(f"documented paths {sorted(paths)} != served {sorted(ROUTES)}")
    for path, item in paths.items():
        methods = {m for m in item if m in METHODS}
        if methods != ROUTES.get(path, set()):
            failures.append(f"{path}: documented methods {methods} != served {ROUTES.get(path)}")
        for m in methods:
            op = item[m]
            if "security" in op:
                failures.append(f"{m} {path} overrides the global security")
            responses = op.get("responses", {})
            if "401" not in responses:
                failures.append(f"{m} {path} has no 401")
            for status, resp in responses.items():
                resp = resolve(resp)
                if int(status) >= 400:
                    schema = resp.get("content", {}).get("application/json", {}).get("schema", {})
                    if schema.get("$ref") != "#/components/schemas/Error":
                        failures.append(f"{m} {path} {status} does not answer an Error")
            if m == "post" and "413" not in responses:
                failures.append(f"{m} {path} takes a body but documents no 413")
            for p in item.get("parameters", []) + op.get("parameters", []):
                p = resolve(p)
                if p["in"] == "path" and "{" + p["name"] + "}" not in path:
                    failures.append(f"{path}: parameter {p['name']} is not in the path")

    # Every error code the code can send is in the Error enum.
    documented = set(doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"])
    sent = set()
    for name in ("api_errors.h", "control_api.cpp", "control_api_sdp.cpp", "../app/control_service.cpp"):
        with open(os.path.join(src_dir, name), encoding="utf-8") as f:
            text = f.read()
        for stmt in re.findall(r"(?:ApiError::\w+\(|\{\s*SOUP_STATUS_\w+,)[^;]*", text, re.S):
            sent.update(re.findall(r'"([a-z]+(?:_[a-z]+)*)"', stmt))
        if name == "api_errors.h":
            sent.update(re.findall(r'std::string code = "([a-z_]+)"', text))
    missing = sent - documented
    if missing:
        failures.append(f"error codes sent but not documented: {sorted(missing)}")
    if len(sent) < 15:
        failures.append(f"found only {sorted(sent)} in the sources: the scan is broken")

    # Every metric family the code registers is listed under /metrics.
    metrics_doc = paths.get("/metrics", {}).get("get", {}).get("description", "")
    registered = set()
    for name in sorted(os.listdir(src_dir)):
        if name.endswith(".cpp"):
            with open(os.path.join(src_dir, name), encoding="utf-8") as f:
                registered.update(re.findall(
                    r'\b(?:counter|gauge|counterFamily|gaugeFamily)\(\s*"((?:roomcast|process)_[a-z_]+)"',
                    f.read()))
    undocumented = sorted(m for m in registered if f"`{m}" not in metrics_doc)
    if undocumented:
        failures.append(f"metrics registered but not listed under /metrics: {undocumented}")
    if len(registered) < 15:
        failures.append(f"found only {sorted(registered)} metric families: the scan is broken")

    for f in failures:
        print("FAIL:", f)
    if not failures:
        print(f"OK: {len(paths)} paths, {len(sent)} error codes, {len(registered)} metric families")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
