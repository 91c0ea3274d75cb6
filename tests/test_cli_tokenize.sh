#!/bin/sh
# clipvk tokenize: output formats and exit codes. Usage: test_cli_tokenize.sh CLIPVK
# The CLIP vocabulary is in the test data, $CLIPVK_TEST_DATA_DIR (ctest sets it
# from CMake's CLIPVK_TEST_DATA_DIR); skips (77) without it.
clipvk=$1
[ -n "${CLIPVK_TEST_DATA_DIR:-}" ] || { echo "SKIP: CLIPVK_TEST_DATA_DIR is not set (ctest sets it)"; exit 77; }
model=$CLIPVK_TEST_DATA_DIR/golden/model
[ -r "$model/vocab.json" ] || { echo "SKIP: $model/vocab.json not found (test data: CLIPVK_TEST_DATA_DIR)"; exit 77; }
fail=0
check() { # name, expected, actual
    if [ "$2" != "$3" ]; then echo "FAIL $1: got '$3', want '$2'"; fail=1; fi
}
check "plain" "49406 320 1125 539 320 3329 269 49407" "$("$clipvk" tokenize --model "$model" "a photo of a bird.")"
check "two texts" "$(printf '49406 320 49407\n49406 49407')" "$("$clipvk" tokenize --model "$model" "a" "")"
check "json" "$(printf '[[49406, 320, 49407],\n [49406, 49407]]')" "$("$clipvk" tokenize --model "$model" --json a " ")"
check "vocab+merges" "49406 320 49407" \
    "$("$clipvk" tokenize --vocab "$model/vocab.json" --merges "$model/merges.txt" a)"
check "context" "49406 320 321 49407" "$("$clipvk" tokenize --model "$model" --context 4 "a b c d")"
check "--" "49406 268 343 49407" "$("$clipvk" tokenize --model "$model" -- -x)"
"$clipvk" tokenize --help >/dev/null; check "--help exit" 0 $?
"$clipvk" tokenize --model "$model" --bogus a 2>/dev/null; check "unknown option exit" 2 $?
"$clipvk" tokenize --model "$model" 2>/dev/null; check "no text exit" 2 $?
"$clipvk" tokenize a 2>/dev/null; check "no model exit" 2 $?
out=$("$clipvk" tokenize --model "$model" a "$(printf 'ok\377')" 2>&1); rc=$?
check "bad UTF-8 exit" 1 $rc
check "bad UTF-8 message" "clipvk: tokenize: argument 2: invalid UTF-8 in the text at byte offset 2 (byte cannot start a character)" "$out"
"$clipvk" tokenize --model /nonexistent a 2>/dev/null; check "missing model exit" 1 $?
[ $fail = 0 ] && echo "cli tokenize: all checks passed"
exit $fail
