#!/bin/sh
# Every command answers --help (exit 0, a usage line) and refuses an unknown
# option with one line on stderr and exit code 2.
#   test_cli.sh CLIPVK_BINARY
set -u
clipvk=$1
fail=0
check() { # check WHAT EXPECTED_RC ACTUAL_RC STDERR_LINES_WANTED STDERR_FILE
    lines=$(grep -c . "$5" || true)
    if [ "$2" != "$3" ] || { [ "$4" != "-" ] && [ "$lines" != "$4" ]; }; then
        echo "FAIL $1: exit $3 (want $2), $lines stderr line(s)"; cat "$5"; fail=1
    else
        echo "ok   $1"
    fi
}
err=$(mktemp)
"$clipvk" >/dev/null 2>"$err"; check "no command" 2 $? - "$err"
"$clipvk" no-such-command >/dev/null 2>"$err"; check "unknown command" 2 $? 1 "$err"
"$clipvk" --help >/dev/null 2>"$err"; check "--help" 0 $? 0 "$err"
commands=$("$clipvk" --help | sed -n 's/^  \([a-z-]*\)  .*/\1/p')
[ -n "$commands" ] || { echo "FAIL: no commands listed by --help"; fail=1; }
for c in $commands; do
    out=$("$clipvk" "$c" --help 2>"$err"); rc=$?
    check "$c --help" 0 $rc 0 "$err"
    echo "$out" | grep -q "^usage: clipvk $c" || { echo "FAIL $c --help prints no usage line"; fail=1; }
    "$clipvk" "$c" --no-such-option >/dev/null 2>"$err"; check "$c --no-such-option" 2 $? 1 "$err"
done
rm -f "$err"
[ $fail = 0 ] && echo "all CLI checks passed"
exit $fail
