#!/usr/bin/env bash
# The browser tests (tests/test_browser.py) drive Debian's own Chromium, with CJK fonts for the page; Playwright's
# browser download is not used. Install what is missing from apt; nothing is done when both are already there.
# (AIDQA_CHROMIUM=<binary> uses another Chromium; AIDQA_SKIP_BROWSER=1 skips the browser tests.)
set -euo pipefail
if [ "${AIDQA_SKIP_BROWSER:-}" = 1 ]; then exit 0; fi
missing=()
if [ -z "${AIDQA_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then missing+=(chromium); fi
if command -v dpkg >/dev/null 2>&1 && ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then missing+=(fonts-noto-cjk); fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo=sudo; fi
  echo "installing ${missing[*]} from apt for the browser tests" >&2
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
