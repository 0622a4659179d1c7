"""Reads `wrk --latency` output on stdin; prints "requests/s p50_ms p99_ms non2xx"."""
import re
import sys

text = sys.stdin.read()


def ms(value):
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errors = re.search(r"Socket errors: (.*)", text)
line = f"{rps:.0f} {ms(pct['50']):.2f} {ms(pct['99']):.2f} {bad.group(1) if bad else 0}"
if errors:
    line += f" ({errors.group(1)})"
print(line)
