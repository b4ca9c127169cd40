#!/usr/bin/env bash
# The browser tests drive Debian's Chromium with Playwright (a test tool's own
# browser download cannot work offline); install it when it is missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
echo "retouch: installing Debian's chromium for the browser tests"
$sudo apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
