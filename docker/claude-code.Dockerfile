# The harness image plus real Claude Code, for `--client claude-code --runtime containers` (Claude Code
# runs inside the worker's container) and `harness up --exec -- claude ...` in containers. A second
# image, so the services' image stays small: every service runs from docker/Dockerfile's image.
# Built by docker/build-images.sh from a context it assembles (no registry, no npm): `root/` holds
# the pinned Claude Code binary from the host's node_modules at usr/local/bin/claude, plus the shared
# libraries it links against that the harness image lacks (the offline base has only node's).
# Only Dockerfile syntax that Docker 20.10's legacy builder understands.
ARG HARNESS_IMAGE=mcp-topology-harness/node:local
FROM ${HARNESS_IMAGE}
ARG CLAUDE_CODE_VERSION=unknown
COPY root/ /
LABEL mcp-topology-harness.claude-code-version=${CLAUDE_CODE_VERSION}
USER node
CMD ["claude", "--version"]
