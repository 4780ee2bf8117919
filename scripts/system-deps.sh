#!/usr/bin/env bash
# Debian packages the app needs beside Python: wkhtmltopdf (PDFs) and a font with accents;
# with WITH_BROWSER=1 also Chromium, which the browser tests drive (make test, CI), and poppler-utils
# (pdftoppm), which turns a PDF page into the PNG the end-to-end suite saves.
# Installs them with apt-get when missing and allowed (root or password-less sudo, and
# INSTALL_SYSTEM_PACKAGES is not 0). Otherwise it says what is missing and goes on:
# everything but PDFs works without them.
set -euo pipefail

packages=()
command -v wkhtmltopdf >/dev/null 2>&1 || packages+=(wkhtmltopdf)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || packages+=(fonts-dejavu-core)
if [ "${WITH_BROWSER:-0}" = "1" ]; then
  command -v chromium >/dev/null 2>&1 || packages+=(chromium)
  command -v pdftoppm >/dev/null 2>&1 || packages+=(poppler-utils)  # the PDF's picture in docs/screenshots
fi
[ ${#packages[@]} -eq 0 ] && exit 0

if [ "${INSTALL_SYSTEM_PACKAGES:-1}" != "0" ] && command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo=none; fi
  if [ "$sudo" != none ]; then
    echo "Installing ${packages[*]} with apt-get ..."
    if $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}"; then
      exit 0
    fi
  fi
fi
echo "Note: ${packages[*]} not installed (PDFs, or the browser tests, need them: apt-get install ${packages[*]})." >&2
exit 0
