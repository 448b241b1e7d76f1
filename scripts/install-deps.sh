#!/usr/bin/env bash
# Installs the system packages protocol-ocr builds and runs against, on
# Debian 12 (root, or a user with sudo). Idempotent: when everything is
# present it only checks, in well under a second.
set -euo pipefail

PACKAGES=(
  libtesseract-dev libleptonica-dev   # libtesseract 5 for the `tesseract` crate
  tesseract-ocr tesseract-ocr-kaz tesseract-ocr-rus tesseract-ocr-eng tesseract-ocr-osd
  clang libclang-dev pkg-config       # bindgen for tesseract-sys
  chromium chromium-driver            # the review page's end-to-end test drives a real browser
  time                                # GNU time: wall, CPU and peak memory in `make bench`
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
