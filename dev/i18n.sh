#!/usr/bin/env bash
# make i18n: the message catalogue and its translations, with CKAN's babel setup.
#   1. extract every marked string of the package into i18n/ckanext-governance.pot
#      (dev/i18n/babel.cfg: Python, templates and e-mail texts);
#   2. merge it into each translation (i18n/<locale>/LC_MESSAGES/ckanext-governance.po),
#      new strings empty, none matched fuzzily;
#   3. compile the .mo files CKAN loads (ITranslation), committed beside the .po.
# tests/test_i18n.py fails when a marked string is missing from the catalogue or a
# translation is incomplete.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
DIR="$ROOT/ckanext/governance/i18n"
DOMAIN=ckanext-governance
cd "$ROOT"
"$VENV/bin/pybabel" -q extract -F dev/i18n/babel.cfg -k _ -k ungettext:1,2 \
    -c "TRANSLATORS:" --project "$DOMAIN" --copyright-holder "ckanext-governance contributors" \
    --msgid-bugs-address "https://github.com/ckanext-governance/ckanext-governance/issues" \
    --omit-header --sort-by-file -o "$DIR/$DOMAIN.pot" .
for locale in de es; do
    po="$DIR/$locale/LC_MESSAGES/$DOMAIN.po"
    if [ -f "$po" ]; then
        "$VENV/bin/pybabel" -q update -i "$DIR/$DOMAIN.pot" -d "$DIR" -D "$DOMAIN" -l "$locale" \
            --no-fuzzy-matching
    else
        "$VENV/bin/pybabel" -q init -i "$DIR/$DOMAIN.pot" -d "$DIR" -D "$DOMAIN" -l "$locale"
    fi
done
"$VENV/bin/pybabel" compile -d "$DIR" -D "$DOMAIN" --statistics
