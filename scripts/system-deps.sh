#!/usr/bin/env bash
# Installs the Debian packages Coopmarket needs when some are missing: WeasyPrint's libraries and
# fonts and gettext always; with --test also what the tests use: poppler (reading PDFs), Chromium
# (browser tests, driven by Playwright; from Debian, never `playwright install`) and nodejs/npm
# (to install axe-core, the accessibility checker the browser tests inject: `make axe`).
# Needs root and apt-get; elsewhere it only says what is missing.
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core gettext)
if [ "${1:-}" = "--test" ]; then
  packages+=(poppler-utils chromium nodejs npm)
fi
# A package whose program is already on the PATH counts as there (e.g. NodeSource's nodejs ships
# npm, and Debian's npm package would conflict with it).
declare -A provides=([chromium]=chromium [nodejs]=node [npm]=npm)
missing=()
for p in "${packages[@]}"; do
  [ -n "${provides[$p]:-}" ] && command -v "${provides[$p]}" >/dev/null && continue
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
