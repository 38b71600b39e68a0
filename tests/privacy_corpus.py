"""The labelled privacy corpus: generated Chinese and English support conversations with known
personal data and secrets inserted, and look-alikes that must not be taken for them.

    python tests/privacy_corpus.py            # rewrites tests/data/ftkit-privacy-corpus/
    python tests/privacy_corpus.py --check    # exit 1 unless the files are what the seed gives

Every value is made up here, from a fixed seed (``SEED``): same seed, same bytes. Files:
``corpus.jsonl`` (SiliconFlow messages records) and ``labels.jsonl``: one JSON object per
inserted value, ``{"line", "message", "start", "end", "kind"}`` for personal data (``kind`` as
``ftkit fix --redact`` names it) or ``{"line", "message", "start", "end", "lookalike"}`` for a
look-alike. ``start``/``end`` are character offsets in that message's content (end excluded).

What counts (the decisions FT601-FT606 document): addresses at example.com/.org/.net and other
reserved names are documentation, not personal data; a password's secret is its value, not the
keyword; published test card numbers, NANP 555-01xx numbers, private and documentation IP
ranges and versions ("version 1.2.3.4") are not personal data.

The same people wrote this generator and the rules, so a few values (``HARD``: about one in
thirty) are written in ways the rules are known not to handle: "zhang at qq dot com", fullwidth
digits, an identity number in groups, a card number with dots, a bearer token; and some
look-alikes cannot be told apart from the real thing (a Luhn-valid 16-digit order number
starting with 4). They keep the measured precision and recall honest, below 1.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import random
import string
import sys
import uuid
from pathlib import Path
from typing import Any

SEED = 20241201
RECORDS = 720
OUT = Path(__file__).resolve().parent / "data" / "ftkit-privacy-corpus"
ALNUM = string.ascii_letters + string.digits

ZH_NAMES = ["zhang.wei", "li.na", "wang.fang", "liu.yang", "chen.jing", "yang.lei", "zhao.min", "huang.tao", "zhou.qiang", "wu.xia"]
EN_NAMES = ["john.smith", "mary.jones", "d.miller", "sarah_k", "alex.chen", "p.garcia", "emma.w", "tom.brown", "lucy", "r.kumar"]
DOMAINS = ["qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "foxmail.com", "sina.com", "corp-mail.cn", "lotus-logistics.com.cn",
           "beiyun-tech.com", "mail.hexa-retail.cn", "northwind-trading.co.uk"]  # fmt: skip
AREA_CODES = ["010", "021", "020", "022", "023", "0755", "0571", "028", "027", "025", "029", "0512", "0532", "0731"]
ID_REGIONS = ["110105", "110108", "310104", "310115", "440304", "440106", "330106", "510107", "420102", "320102", "370102",
              "610113", "500103", "650102", "620102", "360102", "530102", "210102"]  # fmt: skip
CARD_ISSUERS = [("4", 16), ("4", 16), ("51", 16), ("53", 16), ("55", 16), ("2221", 16), ("2700", 16), ("34", 15), ("37", 15),
                ("62", 16), ("62", 19), ("3528", 16), ("3566", 16), ("6011", 16), ("65", 16)]  # fmt: skip
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECKS = "10X98765432"
NOT_PUBLIC = [ipaddress.ip_network(n) for n in ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
              "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
              "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3")]  # fmt: skip

ZH_FILLER = ["好的，我帮您查一下。", "请稍等。", "感谢您的耐心。", "已经为您登记。", "还有其他问题吗？", "我们会尽快处理。", "收到，谢谢！",
             "麻烦您核对一下信息。", "系统显示已经发货。", "退款会在三个工作日内到账。"]  # fmt: skip
EN_FILLER = ["Sure, let me check that for you.", "One moment please.", "Thanks for your patience.", "I have noted that.",
             "Anything else I can help with?", "We will handle it shortly.", "Got it, thanks!", "Please double-check the details.",
             "The system shows it has shipped.", "The refund arrives within three working days."]  # fmt: skip

# (language, template) with {slot}s; a slot is a kind of personal data or a look-alike.
TEMPLATES = [
    ("zh", "我的邮箱是{email}，有问题请联系我。"), ("zh", "请把发票发到 {email} 谢谢"), ("zh", "联系邮箱：{email}。"),
    ("en", "You can reach me at {email}."), ("en", "Please send the invoice to <{email}>"), ("en", "my email is {email}, thanks"),
    ("zh", "我的手机号是{phone}，请回电。"), ("zh", "电话 {phone} 随时联系"), ("zh", "联系方式：{phone}（工作日）"),
    ("en", "Call me on {phone} after 6pm."), ("en", "My number: {phone}"), ("en", "Phone {phone}, ask for the manager."),
    ("zh", "身份证号{id}，请核实。"), ("zh", "我的身份证是 {id}"), ("en", "ID number {id} for the booking."),
    ("zh", "银行卡号 {card}，请退款到这张卡。"), ("zh", "信用卡：{card}"), ("en", "Charge my card {card} please."),
    ("en", "Card number: {card}, expiry 09/28."),
    ("zh", "登录地址是 {ip}，请检查防火墙。"), ("en", "Our server at {ip} keeps timing out."), ("en", "Requests come from {ip}:443."),
    ("zh", "这是我的密钥 {secret} 帮我看看为什么报错"), ("en", "Here is my key {secret} - why does it fail?"),
    ("en", "config:\n{secret}\nwhat is wrong?"), ("zh", "配置如下：{secret}"),
    ("zh", "订单号 {order}，什么时候发货？"), ("en", "Order {order} has not arrived."), ("zh", "快递单号 {tracking}。"),
    ("en", "Tracking number {tracking}."), ("en", "The log says ts={timestamp}."), ("zh", "时间戳 {timestamp}"),
    ("en", "The book is {isbn}."), ("zh", "书号 {isbn}"), ("en", "We run {version} in production."), ("zh", "当前{version}"),
    ("en", "Request id {uuid}."), ("en", "sha256 {hex}"), ("zh", "价格 {price}，包邮。"), ("en", "It costs {price}."),
    ("zh", "预约日期 {date}"), ("en", "Delivered on {date}."), ("zh", "编号 {bad_id}"), ("en", "Reference {bad_id}."),
    ("en", "Order ref {bad_card}."), ("zh", "流水号 {bad_card}"), ("en", "Write to {doc_email} in the docs."),
    ("zh", "示例邮箱：{doc_email}"), ("en", "The router is {private_ip}."), ("zh", "内网地址 {private_ip}"),
    ("en", "Set {placeholder} in your .env file."), ("zh", "把 {placeholder} 换成你自己的"), ("en", "Call {fictional_phone} in the film."),
    ("en", "Use test card {test_card} in the sandbox."), ("en", "Password: reset it in Settings, then pass the check."),
    ("zh", "通过率 95%，版本号 2.1.0"),
]  # fmt: skip
KINDS = ("email", "phone", "id", "card", "ip", "secret")
#: Share of values written in a form the rules do not handle (see the module docstring).
HARD = 0.03
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


class Generator:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice(string.digits) for _ in range(n))

    def alnum(self, n: int, alphabet: str = ALNUM) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    # --- personal data ------------------------------------------------------------------------

    def email(self) -> str:
        rng = self.rng
        local = rng.choice(ZH_NAMES + EN_NAMES)
        local = rng.choice([local, local + self.digits(rng.randint(1, 4)), self.digits(rng.randint(6, 11)), local.replace(".", "_")])
        domain = rng.choice(DOMAINS)
        if rng.random() < HARD:
            return f"{local} at {domain.replace('.', ' dot ')}"
        return f"{local}@{domain}" if rng.random() < 0.9 else f"{local}@{domain}".title()

    def phone(self) -> str:
        rng = self.rng
        if rng.random() < HARD:
            return ("1" + rng.choice("3456789") + self.digits(9)).translate(_FULLWIDTH)
        kind = rng.random()
        if kind < 0.6:
            n = "1" + rng.choice("3456789") + self.digits(9)
            form = rng.choice(["plain", "spaces", "dashes", "+86", "0086", "+86 spaces"])
            if form == "plain":
                return n
            if form == "spaces":
                return f"{n[:3]} {n[3:7]} {n[7:]}"
            if form == "dashes":
                return f"{n[:3]}-{n[3:7]}-{n[7:]}"
            if form == "+86":
                return f"+86 {n}"
            if form == "0086":
                return f"0086-{n}"
            return f"+86 {n[:3]} {n[3:7]} {n[7:]}"
        if kind < 0.85:
            area = rng.choice(AREA_CODES)
            local = self.digits(1).replace("0", "6") + self.digits(7 if len(area) == 3 else rng.choice([6, 7]))
            cut = 4 if len(local) == 8 else 3
            return rng.choice([f"{area}-{local}", f"({area}) {local[:cut]} {local[cut:]}", f"{area} {local}"])
        return rng.choice([f"+49 30 {self.digits(8)}", f"+81 3-{self.digits(4)}-{self.digits(4)}", f"+65 6{self.digits(3)} {self.digits(4)}",
                           f"+852 2{self.digits(3)} {self.digits(4)}", f"+1 212 {rng.randint(201, 549)} {self.digits(4)}",
                           f"+44 161 {self.digits(3)} {self.digits(4)}"])  # fmt: skip

    def _id17(self) -> str:
        rng = self.rng
        year, month = rng.randint(1950, 2005), rng.randint(1, 12)
        day = rng.randint(1, 28)
        return f"{rng.choice(ID_REGIONS)}{year:04d}{month:02d}{day:02d}{self.digits(3)}"

    def id(self) -> str:
        first = self._id17()
        check = ID_CHECKS[sum(int(c) * w for c, w in zip(first, ID_WEIGHTS)) % 11]
        number = first + (check if check != "X" or self.rng.random() < 0.8 else "x")
        return f"{number[:6]} {number[6:14]} {number[14:]}" if self.rng.random() < HARD else number

    def bad_id(self) -> str:
        first = self._id17()
        right = ID_CHECKS[sum(int(c) * w for c, w in zip(first, ID_WEIGHTS)) % 11]
        return first + self.rng.choice([c for c in "0123456789" if c != right])

    def _luhn_digit(self, body: str) -> str:
        total = 0
        for i, ch in enumerate(reversed(body)):
            d = int(ch)
            if i % 2 == 0:
                d = d * 2 - 9 if d > 4 else d * 2
            total += d
        return str((10 - total % 10) % 10)

    def _card_digits(self) -> str:
        prefix, length = self.rng.choice(CARD_ISSUERS)
        body = prefix + self.digits(length - len(prefix) - 1)
        return body + self._luhn_digit(body)

    def _grouped(self, n: str) -> str:
        rng = self.rng
        sep = rng.choice(["", " ", "-"])
        if len(n) == 15:
            return sep.join([n[:4], n[4:10], n[10:]])
        return sep.join(n[i : i + 4] for i in range(0, len(n), 4))

    def card(self) -> str:
        if self.rng.random() < HARD:
            n = self._card_digits()
            return ".".join(n[i : i + 4] for i in range(0, len(n), 4))
        return self._grouped(self._card_digits())

    def bad_card(self) -> str:
        n = self._card_digits()
        wrong = str((int(n[-1]) + self.rng.randint(1, 9)) % 10)
        return self._grouped(n[:-1] + wrong)

    def ip(self) -> str:
        rng = self.rng
        if rng.random() < 0.75:
            while True:
                address = ipaddress.IPv4Address(rng.getrandbits(32))
                if not any(address in net for net in NOT_PUBLIC):
                    return str(address)
        groups = [f"{rng.choice(['2400', '2408', '240e', '2a00', '2001:4860', '2606:4700', '2a03:2880'])}"]
        groups += [f"{rng.getrandbits(16):x}" for _ in range(rng.randint(1, 3))]
        return ":".join(groups) + rng.choice(["::1", "::" + f"{rng.getrandbits(16):x}", ":" + f"{rng.getrandbits(16):x}::1"])

    def secret(self) -> tuple[str, int, int]:
        """A secret in its usual surroundings, and where the secret itself is in it."""
        rng = self.rng
        if rng.random() < HARD:
            token = self.alnum(40, ALNUM + "._-")
            return f"Authorization: Bearer {token}", 22, 22 + len(token)
        form = rng.randrange(11)
        if form == 0:
            key = "sk-" + self.alnum(48)
        elif form == 1:
            key = "sk-proj-" + self.alnum(40, ALNUM + "_-") + self.alnum(4)
        elif form == 2:
            key = "sk-" + self.alnum(48, string.ascii_lowercase)  # SiliconFlow's form
        elif form == 3:
            key = rng.choice(["AKIA", "ASIA"]) + self.alnum(16, string.ascii_uppercase + string.digits)
        elif form == 4:
            key = rng.choice(["ghp_", "gho_", "ghs_"]) + self.alnum(36)
        elif form == 5:
            key = "github_pat_" + self.alnum(22) + "_" + self.alnum(59)
        elif form == 6:
            key = f"xoxb-{self.digits(12)}-{self.digits(13)}-{self.alnum(24)}"
        elif form == 7:
            key = "AIza" + self.alnum(35, ALNUM + "_-")
        elif form == 8:
            part = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()  # noqa: E731
            key = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': self.digits(8), 'iat': 1717200000})}.{self.alnum(43, ALNUM + '_-')}"
        elif form == 9:
            body = "\n".join(base64.b64encode(rng.randbytes(48)).decode() for _ in range(rng.randint(2, 5)))
            label = rng.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])
            key = f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"
        else:
            value = rng.choice([self.alnum(rng.randint(8, 14)) + rng.choice("!@#%&") + self.digits(2), "Tr0ub4dor&3", self.alnum(10) + "9"])
            lead = rng.choice(["password=", "passwd: ", "密码：", '"password": "', "DB_PASSWORD=", "pwd = '"])
            tail = '"' if lead.endswith('"') else "'" if lead.endswith("'") else ""
            return lead + value + tail, len(lead), len(lead) + len(value)
        return key, 0, len(key)

    # --- look-alikes --------------------------------------------------------------------------

    def lookalike(self, slot: str) -> str:
        rng = self.rng
        if slot == "order":
            if rng.random() < HARD * 2:  # indistinguishable from a Visa number
                body = "4" + self.digits(14)
                return body + self._luhn_digit(body)
            return rng.choice([f"2024{self.digits(12)}", f"E{self.digits(14)}", f"DD{self.digits(10)}", f"{rng.randint(2021, 2025)}{self.digits(8)}"])
        if slot == "tracking":
            return rng.choice([f"SF{self.digits(13)}", f"YT{self.digits(13)}", f"JD{self.digits(13)}", f"EA{self.digits(9)}CN", f"7731{self.digits(8)}"])
        if slot == "timestamp":
            return rng.choice([str(rng.randint(1_500_000_000, 1_800_000_000)), str(rng.randint(1_500_000_000_000, 1_800_000_000_000)),
                               f"2024-06-{rng.randint(10, 28)}T{rng.randint(10, 23)}:{rng.randint(10, 59)}:{rng.randint(10, 59)}Z"])  # fmt: skip
        if slot == "isbn":
            return rng.choice([f"ISBN 978-7-{self.digits(3)}-{self.digits(5)}-{self.digits(1)}", f"978{self.digits(10)}"])
        if slot == "version":
            v = ".".join(str(rng.randint(0, 30)) for _ in range(4))
            return rng.choice([f"version {v}", f"v{v}", f"版本 {v}", f"Chrome/120.0.{rng.randint(1000, 9999)}.{rng.randint(10, 199)}"])
        if slot == "uuid":
            return str(uuid.UUID(int=rng.getrandbits(128)))
        if slot == "hex":
            return f"{rng.getrandbits(256):064x}"
        if slot == "price":
            return rng.choice([f"¥{rng.randint(1, 9)},{self.digits(3)}.00", f"${rng.randint(1, 999)}.{self.digits(2)}", f"{rng.randint(100, 99999)} 元"])
        if slot == "date":
            return rng.choice([f"2024年{rng.randint(1, 12)}月{rng.randint(1, 28)}日", f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                               f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/2024"])  # fmt: skip
        if slot == "bad_id":
            return self.bad_id()
        if slot == "bad_card":
            return self.bad_card()
        if slot == "doc_email":
            return rng.choice(["user", "test", "your.name", "admin"]) + "@" + rng.choice(["example.com", "example.org", "mail.example.net", "corp.test"])
        if slot == "private_ip":
            return rng.choice([f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}", f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.1",
                               f"172.{rng.randint(16, 31)}.0.{rng.randint(1, 254)}", "127.0.0.1", f"203.0.113.{rng.randint(1, 254)}",
                               f"198.51.100.{rng.randint(1, 254)}", f"2001:db8::{rng.getrandbits(16):x}", "fe80::1"])  # fmt: skip
        if slot == "placeholder":
            return rng.choice(["OPENAI_API_KEY=sk-your-api-key-here", "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "AKIAIOSFODNN7EXAMPLE",
                               "password=******", "password: <your password>", "SILICONFLOW_API_KEY=sk-...", "DB_PASSWORD=${DB_PASSWORD}"])  # fmt: skip
        if slot == "fictional_phone":
            return f"+1 {rng.randint(201, 989)} 555 01{self.digits(2)}"
        if slot == "test_card":
            return rng.choice(["4242 4242 4242 4242", "4111 1111 1111 1111", "5555 5555 5555 4444", "3782 822463 10005"])
        raise ValueError(slot)

    # --- records ------------------------------------------------------------------------------

    def message(self, lang: str, labels: list[dict[str, Any]], line: int, index: int) -> str:
        rng = self.rng
        text = rng.choice(ZH_FILLER if lang == "zh" else EN_FILLER)
        for _ in range(rng.choice([0, 1, 1, 1, 2])):
            language, template = rng.choice([t for t in TEMPLATES if t[0] == lang] if rng.random() < 0.8 else TEMPLATES)
            head, _, rest = template.partition("{")
            slot, _, tail = rest.partition("}") if rest else ("", "", "")
            sep = "" if language == "zh" and text.endswith(("。", "！", "？")) else " "
            text += sep + head
            if slot:
                start = len(text)
                if slot == "secret":
                    value, a, b = self.secret()
                    labels.append({"line": line, "message": index, "start": start + a, "end": start + b, "kind": "secret"})
                elif slot in KINDS:
                    value = getattr(self, slot)()
                    labels.append({"line": line, "message": index, "start": start, "end": start + len(value), "kind": slot})
                else:
                    value = self.lookalike(slot)
                    labels.append({"line": line, "message": index, "start": start, "end": start + len(value), "lookalike": slot})
                text += value + tail
        return text

    def corpus(self, records: int = RECORDS) -> tuple[list[str], list[dict[str, Any]]]:
        lines, labels = [], []
        for n in range(1, records + 1):
            lang = self.rng.choice(["zh", "en"])
            msgs = []
            if self.rng.random() < 0.4:
                msgs.append({"role": "system", "content": "你是一名耐心的客服。" if lang == "zh" else "You are a patient support agent."})
            for _ in range(self.rng.randint(1, 3)):
                for role in ("user", "assistant"):
                    msgs.append({"role": role, "content": self.message(lang, labels, n, len(msgs))})
            lines.append(json.dumps({"messages": msgs}, ensure_ascii=False))
        return lines, labels


def score(records: list[dict[str, Any]], labels: list[dict[str, Any]], find: Any) -> dict[str, dict[str, Any]]:
    """Precision and recall per kind of ``find(text) -> [(kind, start, end), ...]`` on the corpus.

    A found span is right when a label of its kind overlaps it; a label is found when a found
    span of its kind overlaps it. Wrong finds are also counted by the look-alike they hit.
    """
    by_message: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for label in labels:
        by_message.setdefault((label["line"], label["message"]), []).append(label)
    out = {kind: {"labels": 0, "found": 0, "right": 0, "recalled": 0, "exact": 0, "wrong_by_lookalike": {}} for kind in KINDS}
    for label in labels:
        if "kind" in label:
            out[label["kind"]]["labels"] += 1
    for line, record in enumerate(records, start=1):
        for index, msg in enumerate(record["messages"]):
            expected = by_message.get((line, index), [])
            found = list(find(msg["content"]))
            for kind, start, end in found:
                row = out[kind]
                row["found"] += 1
                hits = [e for e in expected if e["start"] < end and start < e["end"]]
                if any(e.get("kind") == kind for e in hits):
                    row["right"] += 1
                    row["exact"] += any(e.get("kind") == kind and (e["start"], e["end"]) == (start, end) for e in hits)
                else:
                    what = next((e.get("lookalike") or e.get("kind") for e in hits), "other text")
                    row["wrong_by_lookalike"][what] = row["wrong_by_lookalike"].get(what, 0) + 1
            for e in expected:
                if "kind" in e and any(k == e["kind"] and s < e["end"] and e["start"] < t for k, s, t in found):
                    out[e["kind"]]["recalled"] += 1
    for row in out.values():
        row["precision"] = row["right"] / row["found"] if row["found"] else 1.0
        row["recall"] = row["recalled"] / row["labels"] if row["labels"] else 1.0
    return out


def load() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The committed corpus: its records and its labels."""
    records = [json.loads(line) for line in (OUT / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    labels = [json.loads(line) for line in (OUT / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    return records, labels


def generate(seed: int = SEED, records: int = RECORDS) -> dict[str, bytes]:
    """The corpus files (name -> bytes) for ``seed``."""
    lines, labels = Generator(seed).corpus(records)
    return {
        "corpus.jsonl": "".join(line + "\n" for line in lines).encode("utf-8"),
        "labels.jsonl": "".join(json.dumps(label, ensure_ascii=False, separators=(",", ":")) + "\n" for label in labels).encode("utf-8"),
    }


def main(argv: list[str]) -> int:
    files = generate()
    if "--check" in argv:
        stale = [name for name, data in files.items() if not (OUT / name).is_file() or (OUT / name).read_bytes() != data]
        print("up to date" if not stale else f"stale: {', '.join(stale)} (run python tests/privacy_corpus.py)")
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (OUT / name).write_bytes(data)
    print(f"wrote {', '.join(files)} to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
