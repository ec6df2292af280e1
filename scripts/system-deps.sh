#!/usr/bin/env bash
# Installs the Debian packages Coopmarket needs (WeasyPrint's libraries and fonts, gettext,
# poppler for reading PDFs in tests, Chromium for browser tests) when some are missing.
# Needs root and apt-get; elsewhere it only says what is missing.
set -euo pipefail
# chromium: the till's browser tests (checkout/tests/test_till_browser.py) drive it through
# Playwright; it comes from Debian, never from `playwright install`.
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core gettext poppler-utils chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing system packages (install them with your package manager): ${missing[*]}" >&2
fi
