#!/bin/sh
# examples/search.c (the public API only) on the golden model: builds an
# index of the golden images plus a broken file (reported, skipped), searches
# it by text, opens it again without images, and updates it (nothing embedded).
#   test_example_search.sh EXAMPLE WORKDIR   (test data: $CLIPVK_TEST_DATA_DIR, which ctest sets)
set -eu
exe=$1 work=$2
[ -n "${CLIPVK_TEST_DATA_DIR:-}" ] || { echo "SKIP: CLIPVK_TEST_DATA_DIR is not set (ctest sets it)"; exit 77; }
golden=$CLIPVK_TEST_DATA_DIR/golden
[ -d "$golden/model" ] && [ -d "$golden/images" ] ||
    { echo "SKIP: $golden/model or $golden/images not found (test data: CLIPVK_TEST_DATA_DIR)"; exit 77; }
rm -rf "$work" && mkdir -p "$work/images"
cp "$golden"/images/* "$work/images/"
printf '\377\330\377\340 not a JPEG' > "$work/images/broken.jpg"
export CLIPVK_VALIDATION=1
fail() { echo "FAIL: $*"; exit 1; }

out=$("$exe" "$golden/model" "$work/photos.clipidx" "a photo of a cat" "$work"/images/* 2>"$work/err") || fail "first run: $(cat "$work/err")"
echo "$out"
echo "$out" | grep -q '^# 4 new, 0 changed, 0 unchanged, 1 failed: 4 images$' || fail "summary of the first run"
grep -q '^skipped .*broken.jpg' "$work/err" || fail "broken.jpg not reported: $(cat "$work/err")"
[ "$(echo "$out" | grep -c '^[1-4]  ')" = 4 ] || fail "four results expected"

again=$("$exe" "$golden/model" "$work/photos.clipidx" "a photo of a cat") || fail "search of the saved index"
[ "$again" = "$(echo "$out" | grep -v '^#')" ] || fail "the saved index ranks differently: $again"
rm "$work/images/broken.jpg"
upd=$("$exe" "$golden/model" "$work/photos.clipidx" "a photo of a cat" "$work"/images/*) || fail "update"
echo "$upd" | grep -q '^# 0 new, 0 changed, 4 unchanged, 0 failed: 4 images$' || fail "update embedded again: $upd"

"$exe" "$golden/model" "$work/missing.clipidx" "a cat" 2>"$work/err" && fail "a missing index succeeded"
grep -q 'missing.clipidx' "$work/err" || fail "missing index not named: $(cat "$work/err")"
echo "example search test passed"
