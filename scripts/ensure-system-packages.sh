#!/usr/bin/env bash
# Debian packages the demo and the test suite need beyond Python: a CJK font for record
# certificates (fpdf2 embeds Noto Sans CJK; without it Chinese text cannot be drawn). With
# --tests also what the browser suite needs: Debian's Chromium (Playwright drives it; it cannot
# download browsers here) and Node.js with npm (for axe-core) when npm is missing.
# Installed with apt-get when missing (as root); otherwise says what to install.
set -euo pipefail

packages=(fonts-noto-cjk)
if [ "${1:-}" = "--tests" ]; then
  packages+=(chromium)
  command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing Debian packages: ${missing[*]} (install them with apt-get as root)" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
