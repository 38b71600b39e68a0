#!/usr/bin/env python3
"""Benchmark ``ftkit validate`` against a bare ``json.loads`` loop measured in the same run.

    python benchmarks/bench_validate.py [--out-dir DIR] [--quick] [--keep-inputs]

What it does (see benchmarks/README.md):

1. Generates its inputs deterministically (fixed seed) into the output directory:
   (a) ~100 MB of large records: mixed Chinese/English text, 1-4 user/assistant turns, a system
       prompt on most records, one bad line in a thousand (misspelled role, missing content,
       bad JSON, unpaired user turn, in turn);
   (b) ~60 MB of small records (messages of a few words);
   (c) a 10-line valid file;
   (d) for the memory check, files of growing size (100 MB, 250 MB, 500 MB, 1 GB; ``--quick``:
       100 MB and 250 MB), made quickly by repeating one block of (a)-style records with a
       per-block tag so that no record is a duplicate of another.
2. Times, 3 times each, interleaved, best (min) of each:
   - reference: ``python -c`` loop that opens the file in binary and ``json.loads`` every line;
   - ``ftkit validate FILE > /dev/null`` (default text output, as the pre-commit hook runs it;
     default ``--jobs``);
   - the same with ``--jobs 1``;
   - the floor: two forked processes that only read, split and orjson-parse the lines (no rule).
     With ftkit's start-up on the 10-line file added, the rest of the reference's time is what
     all the rules together may cost for a ratio of 1.0 (printed, not a target).
   Every command runs under a fresh ``python`` wrapper process that starts it, times it and reads
   ``getrusage(RUSAGE_CHILDREN)``, so wall time and peak RSS belong to that one command only
   (for ``--jobs 2`` the peak RSS is that of the larger of ftkit's two processes).
3. Prints a table, writes ``DIR/validate.json`` with every figure and the machine's details, and
   exits 1 when a target is missed (0 otherwise), so it can serve as a check:
   - ftkit / reference <= 1.0 for (a) and for (b) (default --jobs; issue 16, from 1.5);
   - the 10-line file in < 0.5 s;
   - peak RSS flat as the file grows: RSS at the largest file <= 1.5 x RSS at the smallest;
   - sanity: ftkit counts every record and exactly the bad lines as invalid.

Generated .jsonl files are deleted at the end (the memory-check files right after their
measurement) unless ``--keep-inputs`` is given; validate.json stays.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "benchmarks" / "out"

SEED = 20240601
REPEATS = 3
MB = 1 << 20

LARGE_BYTES = 100 * MB
SMALL_BYTES = 60 * MB
TINY_LINES = 10
MEMORY_SIZES_MB = [100, 250, 500, 1024]
MEMORY_SIZES_MB_QUICK = [100, 250]
MEMORY_BLOCK_BYTES = 32 * MB
BAD_EVERY = 1000

# Targets (the issues' acceptance criteria: issue 16 asks for <= 1.0, from 1.5).
MAX_RATIO = 1.0
MAX_TINY_SECONDS = 0.5
MAX_RSS_GROWTH = 1.5  # peak RSS at the largest memory-check file / at the smallest

REFERENCE_CODE = r"""
import json, sys
loads = json.loads
n = bad = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        n += 1
        try:
            loads(line)
        except ValueError:
            bad += 1
"""

# The floor under any validator of this design on two CPUs: two processes (forked, as ftkit's
# scan is) that only read their half of the file, split it into lines and orjson-parse each line,
# checking nothing. With ftkit's start-up on a 10-line file added, what is left of the reference's
# time is the budget for every rule.
FLOOR_CODE = r"""
import os, sys, orjson
path = sys.argv[1]
size = os.path.getsize(path)
with open(path, "rb") as f:
    f.seek(size // 2)
    f.readline()
    cut = f.tell() if size >= (8 << 20) else size
def part(start, end):
    loads, bad = orjson.loads, 0
    with open(path, "rb") as f:
        f.seek(start)
        left = end - start
        rest = b""
        while left > 0:
            block = f.read(min(1 << 20, left))
            if not block:
                break
            left -= len(block)
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                try:
                    loads(line)
                except orjson.JSONDecodeError:
                    bad += 1
        if rest:
            try:
                loads(rest)
            except orjson.JSONDecodeError:
                bad += 1
if cut < size:
    pid = os.fork()
    if pid == 0:
        part(cut, size)
        os._exit(0)
    part(0, cut)
    os.waitpid(pid, 0)
else:
    part(0, size)
"""

# Runs one command in a fresh process: wall time, exit code, and getrusage of its descendants only.
WRAPPER_CODE = r"""
import json, os, resource, subprocess, sys, time
argv = json.loads(sys.argv[1])
start = time.perf_counter()
proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - start
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "rc": proc.returncode, "maxrss_kb": ru.ru_maxrss,
                  "user": ru.ru_utime, "sys": ru.ru_stime,
                  "stderr": proc.stderr.decode("utf-8", "replace")[-2000:]}))
"""


# --------------------------------------------------------------------------------------------
# Input generation
# --------------------------------------------------------------------------------------------

ZH_WORDS = ["我们", "你们", "他们", "这个", "那个", "今天", "明天", "昨天", "系统", "用户", "订单", "地址", "支付", "退款", "发货", "物流", "客服", "问题", "解决", "方案", "数据", "模型", "训练", "微调", "参数", "学习率", "批次", "推理", "部署", "服务器", "接口", "请求", "响应", "错误", "日志", "配置", "文件", "格式", "检查", "验证", "结果", "报告", "需要", "可以", "应该", "已经", "正在", "因为", "所以", "但是", "如果", "然后", "首先", "其次", "最后", "非常", "比较", "简单", "复杂", "快速", "稳定", "安全", "性能", "内存", "磁盘", "网络", "延迟", "吞吐", "北京", "上海", "深圳", "杭州", "产品", "价格", "优惠", "会员", "积分", "账户", "密码", "登录", "注册", "手机", "邮箱", "验证码", "翻译", "总结", "解释", "例如", "步骤", "注意", "建议", "重要", "确认", "取消", "修改", "保存", "删除", "添加", "查询"]
ZH_PUNCT = ["，", "，", "，", "。", "；", "、", "？", "！", "：", "（注意）", "“引用”"]
EN_WORDS = ["the", "a", "an", "of", "to", "and", "in", "is", "it", "that", "for", "on", "with", "as", "was", "by", "this", "be", "are", "from", "at", "or", "have", "model", "data", "training", "file", "record", "message", "user", "assistant", "system", "prompt", "token", "learning", "rate", "batch", "epoch", "server", "request", "response", "error", "log", "config", "format", "check", "validate", "result", "report", "please", "could", "would", "should", "must", "can", "will", "may", "order", "address", "payment", "refund", "shipping", "support", "question", "answer", "solution", "quickly", "stable", "secure", "memory", "disk", "network", "latency", "throughput", "first", "second", "finally", "example", "step", "note", "important", "confirm", "cancel", "update", "save", "delete", "add", "query", "translate", "summarize", "explain", "customer", "account", "password", "login", "email", "phone", "code", "price", "Python", "JSON", "API", "HTTP", "GPU", "CPU", "SiliconFlow", "Qwen", "LoRA", "dataset", "JSONL", "fine-tuning", "validation"]
EXTRAS = [
    "\n", "\n\n", "\n- ", "\n1. ", "\n2. ", " `x < y` ", ' "quoted" ', " C:\\path\\to\\file ",
    " 😀 ", " → ", " 3.14 ", " 100% ", " <b>bold</b> ", "\t", " & ",
]
SYSTEM_PROMPTS = [
    "你是一个乐于助人的客服助手，请用简洁的中文回答。",
    "You are a helpful assistant. Answer concisely and accurately.",
    "你是专业的技术支持工程师。Answer in the user's language.",
    "You are a translator between Chinese and English. 请保持术语一致。",
    "你是一名数据分析师，回答时请给出步骤。",
    "You are Qwen, a careful reviewer of fine-tuning datasets.",
]
BAD_ROLES = ["asistant", "usr", "Assistant", "human", "gpt", "assitant", "User", "bot"]
BAD_KINDS = ["misspelled_role", "missing_content", "bad_json", "unpaired_user_turn"]


def _sentence_pool(rng: random.Random, n: int = 3000) -> list[str]:
    """Pre-built sentences (Chinese, English, mixed) that texts are assembled from quickly."""
    pool = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            words = rng.choices(ZH_WORDS, k=rng.randint(4, 18))
            parts = []
            for w in words:
                parts.append(w)
                if rng.random() < 0.15:
                    parts.append(rng.choice(ZH_PUNCT))
            pool.append("".join(parts) + rng.choice("。。。？！"))
        elif kind == 1:
            words = rng.choices(EN_WORDS, k=rng.randint(5, 20))
            pool.append(" ".join(words).capitalize() + rng.choice(".....?!") + " ")
        else:
            zh = "".join(rng.choices(ZH_WORDS, k=rng.randint(2, 8)))
            en = " ".join(rng.choices(EN_WORDS, k=rng.randint(1, 4)))
            pool.append(f"{zh} {en} {''.join(rng.choices(ZH_WORDS, k=rng.randint(1, 5)))}。")
        if rng.random() < 0.08:
            pool[-1] += rng.choice(EXTRAS)
    return pool


class LargeRecords:
    """(a)-style records: 1-4 user/assistant turns, mixed Chinese/English, system on ~85%."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pool = _sentence_pool(rng)
        self.bad_json = 0

    def _text(self, lo: int, hi: int) -> str:
        # Log-uniform number of sentences: many short texts, some long ones.
        k = round(lo * (hi / lo) ** self.rng.random())
        return "".join(self.rng.choices(self.pool, k=k)).strip() or "好的。"

    def record(self, tag: str) -> dict[str, Any]:
        rng = self.rng
        msgs: list[dict[str, str]] = []
        if rng.random() < 0.85:
            msgs.append({"role": "system", "content": rng.choice(SYSTEM_PROMPTS)})
        for turn in range(rng.randint(1, 4)):
            user = self._text(1, 12)
            if turn == 0:
                user = f"{tag} {user}"
            msgs.append({"role": "user", "content": user})
            msgs.append({"role": "assistant", "content": self._text(2, 60)})
        return {"messages": msgs}

    def bad_line(self, record: dict[str, Any], kind: str) -> str:
        rng = self.rng
        msgs = record["messages"]
        if kind == "misspelled_role":
            rng.choice([m for m in msgs if m["role"] != "system"])["role"] = rng.choice(BAD_ROLES)
        elif kind == "missing_content":
            del msgs[-1]["content"]  # the last assistant turn; the first user turn keeps its tag
        elif kind == "unpaired_user_turn":
            msgs.pop()  # ends with a user turn that gets no reply
        elif kind == "bad_json":
            line = json.dumps(record, ensure_ascii=False)
            variant = self.bad_json % 4
            self.bad_json += 1
            if variant == 0:  # cut short just after a complete message: "...}, "
                return line[: line.find("}, {") + 3]  # every record has at least two messages
            if variant == 1:  # cut short inside a string
                return line[: len(line) // 2]
            if variant == 2:  # a Python dict: single quotes
                return str(record)
            return line[:-2] + ",]}"  # trailing comma
        return json.dumps(record, ensure_ascii=False)


def _small_record(rng: random.Random) -> dict[str, Any]:
    def words() -> str:
        if rng.random() < 0.5:
            return " ".join(rng.choices(EN_WORDS, k=rng.randint(2, 6)))
        return "".join(rng.choices(ZH_WORDS, k=rng.randint(1, 4)))

    msgs = [{"role": "system", "content": words()}] if rng.random() < 0.3 else []
    for _ in range(rng.randint(1, 2)):
        msgs += [{"role": "user", "content": words()}, {"role": "assistant", "content": words()}]
    return {"messages": msgs}


def _write_until(path: Path, target: int, make_line) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Write lines from ``make_line(i)`` (-> (str, bad_kind | None)) until ``target`` bytes."""
    written = lines = 0
    bad: dict[str, int] = {}
    buf: list[str] = []
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        while written < target:
            line, kind = make_line(lines)
            lines += 1
            if kind:
                bad[kind] = bad.get(kind, 0) + 1
            buf.append(line)
            written += len(line.encode("utf-8")) + 1
            if len(buf) >= 4096:
                out.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            out.write("\n".join(buf) + "\n")
    return {"path": str(path), "bytes": path.stat().st_size, "lines": lines, "bad_lines": sum(bad.values()), "bad_by_kind": bad}


def _large_lines(gen: LargeRecords, tag_of) -> Any:  # type: ignore[no-untyped-def]
    """``make_line`` for (a)-style files: one bad line at a random place in every thousand."""
    rng = gen.rng
    state = {"bad_at": rng.randrange(BAD_EVERY), "kind": 0}

    def make_line(i: int) -> tuple[str, str | None]:
        record = gen.record(tag_of(i))
        if i % BAD_EVERY == state["bad_at"]:
            kind = BAD_KINDS[state["kind"] % len(BAD_KINDS)]
            state["kind"] += 1
            line = gen.bad_line(record, kind)
        else:
            kind, line = None, json.dumps(record, ensure_ascii=False)
        if i % BAD_EVERY == BAD_EVERY - 1:
            state["bad_at"] = rng.randrange(BAD_EVERY)
        return line, kind

    return make_line


def gen_large(path: Path, target: int) -> dict[str, Any]:
    gen = LargeRecords(random.Random(SEED))
    return _write_until(path, target, _large_lines(gen, lambda i: f"#{i:07d}"))


def gen_small(path: Path, target: int) -> dict[str, Any]:
    rng = random.Random(SEED + 1)
    return _write_until(path, target, lambda i: (json.dumps(_small_record(rng), ensure_ascii=False), None))


def gen_tiny(path: Path) -> dict[str, Any]:
    rng = random.Random(SEED + 2)
    return _write_lines(path, [json.dumps(_small_record(rng), ensure_ascii=False) for _ in range(TINY_LINES)])


def _write_lines(path: Path, lines: list[str]) -> dict[str, Any]:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return {"path": str(path), "bytes": path.stat().st_size, "lines": len(lines), "bad_lines": 0, "bad_by_kind": {}}


PLACEHOLDER = "@@@@@@@"  # 7 characters, replaced by the block number in each copy


def memory_block(dir_: Path) -> tuple[bytes, dict[str, Any]]:
    """One block of (a)-style records whose first user turn starts with '#@@@@@@@'."""
    path = dir_ / "_memory_block.tmp"
    gen = LargeRecords(random.Random(SEED + 3))
    info = _write_until(path, MEMORY_BLOCK_BYTES, _large_lines(gen, lambda i: f"#{PLACEHOLDER}-{i:05d}"))
    block = path.read_bytes()
    path.unlink()
    return block, info


def gen_memory_file(path: Path, size: int, block: bytes, block_info: dict[str, Any]) -> dict[str, Any]:
    """Repeat the block (each copy tagged with its number, so no record repeats) up to ``size``."""
    copies = max(1, round(size / len(block)))
    placeholder = PLACEHOLDER.encode()
    with open(path, "wb") as out:
        for n in range(copies):
            out.write(block.replace(placeholder, b"%07d" % n))
    bad = {k: v * copies for k, v in block_info["bad_by_kind"].items()}
    return {"path": str(path), "bytes": path.stat().st_size, "lines": block_info["lines"] * copies,
            "bad_lines": sum(bad.values()), "bad_by_kind": bad, "copies_of_block": copies}


# --------------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------------

def ftkit_command() -> list[str]:
    """The installed console script next to this interpreter, else on PATH, else -m ftkit.cli."""
    here = Path(sys.executable).parent / "ftkit"
    if here.exists():
        return [str(here)]
    found = shutil.which("ftkit")
    return [found] if found else [sys.executable, "-m", "ftkit.cli"]


def measure(argv: list[str], cwd: Path) -> dict[str, Any]:
    """Run ``argv`` (stdout to /dev/null) under a fresh wrapper process; its own figures only."""
    done = subprocess.run([sys.executable, "-c", WRAPPER_CODE, json.dumps(argv)], cwd=cwd,
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    result["maxrss_mb"] = result.pop("maxrss_kb") / 1024
    return result


def best_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"best_s": min(r["wall"] for r in runs), "runs_s": [round(r["wall"], 4) for r in runs],
            "maxrss_mb": max(r["maxrss_mb"] for r in runs), "cpu_s": min(r["user"] + r["sys"] for r in runs),
            "exit_codes": sorted({r["rc"] for r in runs})}


def base_command(base: Path) -> list[str]:
    """``ftkit`` from the package in ``base`` (e.g. a git worktree of an older commit)."""
    return ["env", f"PYTHONPATH={base.resolve()}", sys.executable, "-m", "ftkit"]


def timed_rounds(commands: dict[str, list[str]], repeats: int, cwd: Path) -> dict[str, dict[str, Any]]:
    """Every command ``repeats`` times, interleaved (a change in the machine's load hits all
    alike), each under ``measure``, logged as it goes; the best of each (``best_of``)."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
    for i in range(repeats):
        for name, argv in commands.items():
            result = measure(argv, cwd)
            runs[name].append(result)
            log(f"  run {i + 1}/{repeats} {name:<12} {result['wall']:7.2f} s  peak RSS {result['maxrss_mb']:7.1f} MB  exit {result['rc']}")
    return {name: best_of(r) for name, r in runs.items()}


def ftkit_report(ftkit: list[str], path: Path, cwd: Path) -> dict[str, Any]:
    """One untimed run whose JSON report is read back (sanity check; also warms the cache)."""
    done = subprocess.run([*ftkit, "validate", str(path), "--format", "json"], cwd=cwd, capture_output=True, text=True)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"rc": done.returncode, "error": done.stderr.strip()[-500:]}
    files = report["files"]
    return {"rc": done.returncode, "records": sum(f["records"] for f in files),
            "valid_records": sum(f["valid_records"] for f in files), "by_code": report["summary"]["by_code"]}


def machine_info(ftkit: list[str]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "date": _dt.datetime.now(_dt.UTC).astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "ftkit_command": ftkit,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_total_mb"] = int(line.split()[1]) // 1024
                break
    except OSError:
        pass
    version = subprocess.run([*ftkit, "--version"], capture_output=True, text=True)
    info["ftkit_version"] = version.stdout.strip() or version.stderr.strip()
    for module in ("orjson", "polars", "pydantic"):
        got = subprocess.run([sys.executable, "-c", f"import importlib.metadata as m; print(m.version('{module}'))"],
                             capture_output=True, text=True)
        info[f"{module}_version"] = got.stdout.strip() or None
    git = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    info["git_commit"] = git.stdout.strip() or None
    info["ftkit_source_sha256"] = source_fingerprint()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "ftkit", "rules"], capture_output=True, text=True)
    info["ftkit_source_modified"] = bool(dirty.stdout.strip()) if dirty.returncode == 0 else None
    return info


def source_fingerprint() -> str | None:
    """sha256 over the installed ftkit package's .py/.toml/.json files: which code was measured."""
    import hashlib

    found = subprocess.run([sys.executable, "-c", "import ftkit, os; print(os.path.dirname(ftkit.__file__))"],
                           capture_output=True, text=True)
    root = Path(found.stdout.strip())
    if found.returncode or not root.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".toml", ".json") and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    rules = REPO / "rules"
    for path in sorted(rules.rglob("*")) if rules.is_dir() else []:
        if path.is_file():
            digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


BURN_CODE = "import time\nt = time.process_time()\nx = 0\nfor i in range(4_000_000): x += i\n"


def parallelism_probe() -> dict[str, Any]:
    """How many CPUs this run really gets: one CPU-bound process alone, then two at once.

    ``--jobs 2`` can only pay off when ``effective_cpus`` is close to 2; another busy process on
    the machine shows up here (and in the load average) rather than as a mystery in the ratios.
    """
    def run(n: int) -> float:
        start = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", BURN_CODE]) for _ in range(n)]
        for p in procs:
            p.wait()
        return time.perf_counter() - start

    one = min(run(1) for _ in range(2))
    two = min(run(2) for _ in range(2))
    return {"one_process_s": round(one, 3), "two_processes_s": round(two, 3), "effective_cpus": round(2 * one / two, 2)}


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help=f"where inputs and validate.json go [default: {DEFAULT_OUT}]")
    parser.add_argument("--quick", action="store_true", help="memory check on 100 MB and 250 MB only (no 1 GB file)")
    parser.add_argument("--keep-inputs", action="store_true", help="keep the generated .jsonl files (memory-check files are always deleted)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory check (timings only)")
    parser.add_argument("--repeats", type=int, default=REPEATS, help=f"timed runs of each command [default: {REPEATS}]")
    parser.add_argument("--base", type=Path, help="also time the ftkit package in this directory (e.g. a git worktree of an older "
                        "commit), run as PYTHONPATH=DIR python -m ftkit, interleaved with the others")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    out: Path = args.out_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    # ftkit reads [tool.ftkit] from the nearest pyproject.toml: give it an empty one so that the
    # benchmark measures the default settings wherever --out-dir is.
    (out / "pyproject.toml").write_text("# written by benchmarks/bench_validate.py: ftkit defaults\n[tool.ftkit]\n")
    ftkit = ftkit_command()
    reference = [sys.executable, "-c", REFERENCE_CODE]
    results: dict[str, Any] = {"benchmark": "validate", "machine": machine_info(ftkit),
                               "settings": {"seed": SEED, "repeats": args.repeats, "quick": args.quick, "base": str(args.base),
                                            "reference": "python -c: open(FILE, 'rb'); json.loads(line) for every line",
                                            "ftkit": "ftkit validate FILE > /dev/null"},
                               "inputs": {}, "timings": {}, "memory": [], "targets": []}
    generated: list[Path] = []
    results["machine"]["load_average_start"] = load_average()
    results["machine"]["parallelism"] = parallelism_probe()
    log(f"parallelism probe: {results['machine']['parallelism']}, load average {results['machine']['load_average_start']}")

    # ---- inputs
    specs = [("large", "a_large.jsonl", lambda p: gen_large(p, LARGE_BYTES)),
             ("small", "b_small.jsonl", lambda p: gen_small(p, SMALL_BYTES)),
             ("tiny", "c_tiny.jsonl", gen_tiny)]
    for name, filename, make in specs:
        path = out / filename
        t0 = time.perf_counter()
        info = make(path)
        generated.append(path)
        info["generate_s"] = round(time.perf_counter() - t0, 2)
        results["inputs"][name] = info
        log(f"generated {filename}: {info['bytes'] / MB:.1f} MB, {info['lines']:,} lines, {info['bad_lines']} bad, {info['generate_s']} s")

    # ---- timings: reference, ftkit (default jobs), ftkit --jobs 1; interleaved, best of REPEATS
    for name, _, _ in specs:
        path = Path(results["inputs"][name]["path"])
        sanity = ftkit_report(ftkit, path, out)
        commands = {"reference": [*reference, str(path)],
                    "floor": [sys.executable, "-c", FLOOR_CODE, str(path)],
                    "ftkit": [*ftkit, "validate", str(path)],
                    "ftkit_jobs1": [*ftkit, "validate", str(path), "--jobs", "1"]}
        if args.base:
            base = [*base_command(args.base), "validate", str(path)]
            commands |= {"base": base, "base_jobs1": [*base, "--jobs", "1"]}
        runs: dict[str, list[dict[str, Any]]] = {k: [] for k in commands}
        for _ in range(args.repeats):
            for key, command in commands.items():
                runs[key].append(measure(command, out))
        entry = {key: best_of(r) for key, r in runs.items()}
        for key, r in runs.items():
            if any(x["rc"] not in (0, 1) for x in r):
                entry[key]["stderr"] = next(x["stderr"] for x in r if x["rc"] not in (0, 1))
        ref = entry["reference"]["best_s"]
        entry["ratio"] = entry["ftkit"]["best_s"] / ref
        entry["ratio_jobs1"] = entry["ftkit_jobs1"]["best_s"] / ref
        entry["floor_ratio"] = entry["floor"]["best_s"] / ref
        entry["mb_per_s"] = {k: results["inputs"][name]["bytes"] / MB / entry[k]["best_s"] for k in commands}
        entry["report"] = sanity
        results["timings"][name] = entry
        log(f"timed {name}: reference {ref:.3f} s, ftkit {entry['ftkit']['best_s']:.3f} s, --jobs 1 {entry['ftkit_jobs1']['best_s']:.3f} s")

    # ---- memory: files of growing size, one at a time (deleted right after)
    block, block_info = memory_block(out)
    for size_mb in [] if args.no_memory else MEMORY_SIZES_MB_QUICK if args.quick else MEMORY_SIZES_MB:
        path = out / f"d_memory_{size_mb}mb.jsonl"
        t0 = time.perf_counter()
        info = gen_memory_file(path, size_mb * MB, block, block_info)
        info["generate_s"] = round(time.perf_counter() - t0, 2)
        row = {"size_mb": size_mb, "input": info,
               "ftkit": measure([*ftkit, "validate", str(path)], out),
               "ftkit_jobs1": measure([*ftkit, "validate", str(path), "--jobs", "1"], out)}
        for key in ("ftkit", "ftkit_jobs1"):
            if row[key]["rc"] in (0, 1):
                row[key].pop("stderr")
        path.unlink()
        results["memory"].append(row)
        log(f"memory {size_mb} MB ({info['bytes'] / MB:.0f} MB, {info['lines']:,} lines): RSS {row['ftkit']['maxrss_mb']:.0f} MB "
            f"in {row['ftkit']['wall']:.2f} s; --jobs 1 {row['ftkit_jobs1']['maxrss_mb']:.0f} MB in {row['ftkit_jobs1']['wall']:.2f} s")

    # ---- targets
    targets = results["targets"]

    def target(name: str, value: float, limit: float, unit: str, ok: bool | None = None) -> None:
        targets.append({"name": name, "value": round(value, 4), "limit": limit, "unit": unit,
                        "ok": bool(value <= limit) if ok is None else ok})

    for name in ("large", "small"):
        target(f"ratio ftkit/reference, ({'a' if name == 'large' else 'b'}) {name} records", results["timings"][name]["ratio"], MAX_RATIO, "x")
    target("10-line file wall time", results["timings"]["tiny"]["ftkit"]["best_s"], MAX_TINY_SECONDS, "s")
    mem = results["memory"]
    for key, label in (("ftkit", "default --jobs"), ("ftkit_jobs1", "--jobs 1")) if mem else ():
        growth = mem[-1][key]["maxrss_mb"] / mem[0][key]["maxrss_mb"]
        target(f"peak RSS growth {mem[0]['size_mb']} MB -> {mem[-1]['size_mb']} MB ({label})", growth, MAX_RSS_GROWTH, "x")
    for name in ("large", "small", "tiny"):
        info, report = results["inputs"][name], results["timings"][name]["report"]
        invalid = report.get("records", -1) - report.get("valid_records", 0)
        ok = report.get("records") == info["lines"] and invalid == info["bad_lines"]
        targets.append({"name": f"sanity {name}: records {report.get('records')}/{info['lines']}, invalid {invalid}/{info['bad_lines']}",
                        "value": invalid, "limit": info["bad_lines"], "unit": "invalid", "ok": ok})
    for row in mem:
        for key in ("ftkit", "ftkit_jobs1"):
            if row[key]["rc"] not in (0, 1):
                targets.append({"name": f"ftkit ran on {row['size_mb']} MB ({key})", "value": row[key]["rc"], "limit": 1,
                                "unit": "exit code", "ok": False})
    for name, entry in results["timings"].items():
        for key in ("ftkit", "ftkit_jobs1", "reference", "floor", "base", "base_jobs1"):
            if key in entry and any(rc not in (0, 1) for rc in entry[key]["exit_codes"]):
                targets.append({"name": f"{key} ran on {name}", "value": max(entry[key]["exit_codes"]), "limit": 1,
                                "unit": "exit code", "ok": False})
    results["machine"]["load_average_end"] = load_average()
    results["ok"] = all(t["ok"] for t in targets)
    results["total_s"] = round(time.perf_counter() - started, 1)

    # ---- output
    report_path = out / "validate.json"
    report_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print_table(results)
    print(f"\nfigures: {report_path}  (total {results['total_s']} s)")
    if not args.keep_inputs:
        for path in generated:
            path.unlink(missing_ok=True)
        (out / "pyproject.toml").unlink(missing_ok=True)
    return 0 if results["ok"] else 1


def print_table(results: dict[str, Any]) -> None:
    m = results["machine"]
    print(f"ftkit validate benchmark: {m['date']}, {m['nproc']} CPUs ({m.get('cpu', '?')}), Python {m['python']}, {m['ftkit_version']}")
    par = m["parallelism"]
    print(f"effective CPUs {par['effective_cpus']} (two CPU-bound processes at once), load average {m['load_average_start']}")
    if par["effective_cpus"] < 1.7 and (m["nproc"] or 1) > 1:
        print("WARNING: this run did not get two free CPUs (another busy process?); default --jobs timings are pessimistic")
    print(f"best of {results['settings']['repeats']} wall times; reference = bare json.loads loop in a fresh python process\n")
    header = f"{'input':<22}{'size':>10}{'lines':>10}{'reference':>11}{'ftkit':>9}{'ratio':>7}{'--jobs 1':>10}{'ratio':>7}{'RSS':>8}"
    print(header)
    print("-" * len(header))
    for name, label in (("large", "(a) large records"), ("small", "(b) small records"), ("tiny", "(c) 10 lines")):
        info, t = results["inputs"][name], results["timings"][name]
        print(f"{label:<22}{info['bytes'] / MB:>8.1f}MB{info['lines']:>10,}{t['reference']['best_s']:>10.3f}s{t['ftkit']['best_s']:>8.3f}s"
              f"{t['ratio']:>7.2f}{t['ftkit_jobs1']['best_s']:>9.3f}s{t['ratio_jobs1']:>7.2f}{t['ftkit']['maxrss_mb']:>6.0f}MB")
    print("\nCPU time (user + sys of the process tree, best run), and the ratio to the reference's")
    for name, label in (("large", "(a) large records"), ("small", "(b) small records"), ("tiny", "(c) 10 lines")):
        t = results["timings"][name]
        ref = t["reference"]["cpu_s"]
        cells = [f"{key} {t[key]['cpu_s']:.3f}s ({t[key]['cpu_s'] / ref:.2f})" for key in t if isinstance(t[key], dict) and "cpu_s" in t[key]]
        walls = [f"{key} {t[key]['best_s']:.3f}s" for key in ("base", "base_jobs1") if key in t]
        print(f"  {label:<20} " + ", ".join(cells) + (f"; wall {', '.join(walls)}" if walls else ""))
    tiny = results["timings"]["tiny"]["ftkit"]["best_s"]
    print(f"\nfloor: two forked processes that only read, split and orjson-parse (no rule), and with ftkit's start-up ({tiny:.3f} s,")
    print("the 10-line file) added; the rest of the reference's time is what every rule may cost together")
    for name, label in (("large", "(a) large records"), ("small", "(b) small records")):
        t = results["timings"][name]
        ref, floor = t["reference"]["best_s"], t["floor"]["best_s"]
        print(f"  {label:<20} floor {floor:.3f} s ({floor / ref:.2f}), with start-up {floor + tiny:.3f} s ({(floor + tiny) / ref:.2f}); "
              f"left for the rules {ref - floor - tiny:+.3f} s; ftkit spends {t['ftkit']['best_s'] - floor - tiny:.3f} s")
    print("\nmemory check: peak RSS as the file grows (one run each)")
    header = f"{'file':>10}{'lines':>11}{'RSS':>9}{'time':>9}{'RSS --jobs 1':>14}{'time':>9}"
    print(header)
    print("-" * len(header))
    for row in results["memory"]:
        a, b = row["ftkit"], row["ftkit_jobs1"]
        print(f"{row['input']['bytes'] / MB:>8.0f}MB{row['input']['lines']:>11,}{a['maxrss_mb']:>7.0f}MB{a['wall']:>8.2f}s"
              f"{b['maxrss_mb']:>12.0f}MB{b['wall']:>8.2f}s")
    print("\ntargets")
    for t in results["targets"]:
        print(f"  [{'ok' if t['ok'] else 'MISSED'}] {t['name']}: {t['value']} {t['unit']} (limit {t['limit']})")
    print("\nALL TARGETS MET" if results["ok"] else "\nSOME TARGETS MISSED")


if __name__ == "__main__":
    sys.exit(main())
