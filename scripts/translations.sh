#!/usr/bin/env bash
# Extract the translatable strings, bring the en/es/fr catalogs up to date, compile them.
#
#   scripts/translations.sh          (the lead's `make translations`)
#   PYBABEL=/path/to/pybabel scripts/translations.sh
#
# The .pot, .po and .mo files are committed: the package ships compiled catalogs.
# Locations are left out so a moved line does not churn the catalogs, and the .pot is only
# rewritten when its messages changed (not for a new POT-Creation-Date alone), so running
# this twice leaves the tree unchanged.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
CATALOGS=admin_app/translations
POT="$CATALOGS/messages.pot"
LOCALES=(en es fr)

tmp_pot="$(mktemp "${TMPDIR:-/tmp}/messages.XXXXXX.pot")"
trap 'rm -f "$tmp_pot"' EXIT

"$PYBABEL" --quiet extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
    --no-location --sort-output --no-wrap \
    --project admin_app --copyright-holder "the practice" \
    -o "$tmp_pot" .

without_date() { grep -v '^"POT-Creation-Date: ' "$1"; }
if [[ -f "$POT" ]] && cmp -s <(without_date "$tmp_pot") <(without_date "$POT"); then
    echo "messages.pot: unchanged"
else
    cat "$tmp_pot" >"$POT"
    echo "messages.pot: updated"
fi

for locale in "${LOCALES[@]}"; do
    if [[ -f "$CATALOGS/$locale/LC_MESSAGES/messages.po" ]]; then
        "$PYBABEL" --quiet update -i "$POT" -d "$CATALOGS" -l "$locale" \
            --no-fuzzy-matching --ignore-obsolete --no-wrap
    else
        "$PYBABEL" --quiet init -i "$POT" -d "$CATALOGS" -l "$locale" --no-wrap
    fi
done

# --statistics reports what is still untranslated (English, the source language, may stay empty).
"$PYBABEL" compile -d "$CATALOGS" --statistics

# admin.po: Flask-Admin's own messages we reword ("Salvar" -> "Guardar"), written by hand, never
# extracted: see admin_app/views/platform/admin_wording.py.
for admin_po in "$CATALOGS"/*/LC_MESSAGES/admin.po; do
    locale="$(basename "$(dirname "$(dirname "$admin_po")")")"
    "$PYBABEL" --quiet compile -D admin -d "$CATALOGS" -l "$locale"
done

# flask_security.po: Flask-Security's Spanish reworded from "tú" to "usted", likewise by hand
# (SECURITY_I18N_DIRNAME puts our folder after Flask-Security's own).
for security_po in "$CATALOGS"/*/LC_MESSAGES/flask_security.po; do
    locale="$(basename "$(dirname "$(dirname "$security_po")")")"
    "$PYBABEL" --quiet compile -D flask_security -d "$CATALOGS" -l "$locale"
done

