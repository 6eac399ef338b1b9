"""Policy pages (content/pages/policies/) are the three seed texts, verbatim, without furniture.

The site publishes the texts whose rules it enforces (README: BJ, CQ, HN). A policy page must keep
every sentence of the official text, in order, add nothing of its own, and carry none of the web
page it was copied from (navigation, source lines, print/font controls, related links, footers).

The seeds live outside the repository, in `shared/seeds/` next to it. Where they are missing, the
tests that compare against them are skipped; the front-matter, layout and index tests still run on
the committed Markdown.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "content" / "pages" / "policies"
SEEDS = ROOT.parent / "shared" / "seeds"

FRONT_MATTER_KEYS = {"title", "issuer", "document_no", "date", "rule_prefix"}
# \s also covers the full-width (U+3000), en (U+2002) and no-break (U+00A0) spaces.
MARKUP = re.compile(r"[\s#*\-]")
SENTENCE_END = re.compile(r"[。；]")
ARTICLE_START = re.compile(r"^第[一二三四五六七八九十百零]+条")
CHAPTER_START = re.compile(r"^第[一二三四五六七八九十]+章")
DOCUMENT_NO = re.compile(r"^\S+〔(\d{4})〕\d+号$")


@dataclass(frozen=True)
class Policy:
    slug: str
    rule_prefix: str
    # Substrings of the seed that belong to the web page, not to the document.
    furniture: tuple[str, ...]
    # Seed lines of the document's heading that the page template shows from the front matter;
    # only their first occurrence may be left out of the body.
    header_lines: tuple[str, ...]


POLICIES = (
    Policy(
        slug="beijing-credit-measures-2023",
        rule_prefix="BJ",
        furniture=("打印字号： 大 中 小",),
        header_lines=("京民社工发〔2023〕276号",),
    ),
    Policy(
        slug="chongqing-record-measures-2017",
        rule_prefix="CQ",
        furniture=("[bookmark: _GoBack]",),
        header_lines=("渝民发〔2017〕56号",),
    ),
    Policy(
        slug="hunan-management-notice-2023",
        rule_prefix="HN",
        furniture=(
            "欢迎访问民生资讯网!",
            "当前所在:首页 > 政策法规",
            "湖南省民政厅等六部门印发《关于进一步加强志愿服务若干事项规范管理工作的通知》",
            "来源:湖南省民政厅 作者:佚名时间:2023-10-10",
            "湖南省民政厅解读《关于进一步加强志愿服务若干事项规范管理工作的通知》",
            "http://mzt.hunan.gov.cn/mzt/xxgk/zcfg/jd/202309/t20230927_29502950.html",
            "原文链接:http://mzt.hunan.gov.cn/mzt/xxgk/zcfg/wj/202309/t20230913_29483901.html",
            "[免责声明] 本文来源于网络转载,仅供学习交流使用,不构成商业目的。版权归原作者所有,"
            "如涉及作品内容、版权和其它问题,请在30日内与本网联系,我们将在第一时间处理。",
            "全国政务信息一体化应用平台",
            "本站部分信息由相应民事主体自行提供,该信息内容的真实性、准确性和合法性应由该民事主体"
            "负责。民生资讯网 对此不承担任何保证责任。",
            "本网部分转载文章、图片等无法联系到权利人,请相关权利人联系本网站索取稿酬。",
            "北京国信涉农资讯中心主办 | 政讯通-全国政务信息一体化办公室 主管",
            "民生资讯网 mszx.org.cn 版权所有。",
            "京ICP备13039793号-20",
            "第一办公区:北京市东城区建国门内大街26号新闻大厦5层;"
            "第二办公区:北京市西城区砖塔胡同56号西配楼",
            "联系电话:010-56212745、010-53382908,监督电话:18518469856,"
            "违法和不良信息举报电话:010-57028685",
            "邮箱:qgfzdyzx@163.com 客服QQ:3206414697 通联QQ:1224368922",
            "北京国信涉农资讯中心",
            "中国互联网协会 不良信息举报中心 网络违法犯罪举报网站 北京网络行业协会",
        ),
        header_lines=(
            "湖南省民政厅 湖南省文明办 湖南省教育厅 中国共青团湖南省委 湖南省妇女联合会 "
            "湖南省残疾人联合会",
            "关于进一步加强志愿服务若干事项规范管理工作的通知",
            "湘民发〔2023〕29号",
        ),
    ),
)
IDS = [p.rule_prefix for p in POLICIES]


def normalise(text: str) -> str:
    """Drop whitespace (full-width included) and the Markdown markup characters # * -."""
    return MARKUP.sub("", text)


def has_text(chunk: str) -> bool:
    """A chunk carries text if it has a letter, digit or CJK character (not only bullets)."""
    return any(ch.isalnum() for ch in chunk)


def split_page(policy: Policy) -> tuple[dict, str]:
    """The page's front matter (YAML) and its Markdown body."""
    text = (PAGES / f"{policy.slug}.md").read_text(encoding="utf-8")
    return split_front_matter(text)


def split_front_matter(text: str) -> tuple[dict, str]:
    assert text.startswith("---\n"), "a page starts with YAML front matter"
    head, sep, body = text[4:].partition("\n---\n")
    assert sep, "the front matter is closed by a --- line"
    meta = yaml.safe_load(head)
    assert isinstance(meta, dict)
    return meta, body


def chunks(text: str) -> list[str]:
    """Normalised sentences: every line split on 。 and ；, without the empty or text-less ones."""
    out = []
    for line in text.splitlines():
        out.extend(c for c in SENTENCE_END.split(normalise(line)) if has_text(c))
    return out


def document_text(policy: Policy, seed: str) -> str:
    """The seed without its furniture, one normalised line per seed line."""
    furniture = sorted((normalise(f) for f in policy.furniture), key=len, reverse=True)
    lines = []
    for line in seed.splitlines():
        kept = normalise(line)
        for piece in furniture:
            kept = kept.replace(piece, "")
        lines.append(kept)
    return "\n".join(lines)


@pytest.fixture(scope="module")
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(
            f"seed policy texts not found at {SEEDS}: they live outside the repository "
            "(shared/seeds/ next to it) and CI provides them"
        )
    return SEEDS


def read_seed(seeds: Path, policy: Policy) -> str:
    return (seeds / f"{policy.slug}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_front_matter_is_complete(policy: Policy) -> None:
    """The template shows title, issuer, number and date from the front matter; none may be blank.

    Also protects the rule prefix that ties the page to its rule IDs (BJ-…, CQ-…, HN-…), and that
    the document number's year agrees with the issue date.
    """
    meta, _ = split_page(policy)
    assert set(meta) == FRONT_MATTER_KEYS
    for key in ("title", "issuer", "document_no"):
        assert isinstance(meta[key], str), key
    assert meta["title"].strip()
    assert meta["issuer"].strip()
    assert isinstance(meta["date"], dt.date), "date is an unquoted ISO date"
    assert meta["rule_prefix"] == policy.rule_prefix
    if meta["document_no"]:
        match = DOCUMENT_NO.match(meta["document_no"])
        assert match, meta["document_no"]
        assert int(match.group(1)) == meta["date"].year


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_body_layout(policy: Policy) -> None:
    """Chapters are ## headings, articles start with a bold 第X条, paragraphs are not indented.

    The body has no level-1 heading: the template renders the title as the page's only h1.
    """
    _, body = split_page(policy)
    for line in body.splitlines():
        if not line:
            continue
        assert not line[0].isspace(), f"indented line: {line[:30]!r}"
        assert not line.startswith("# "), f"level-1 heading in the body: {line[:30]!r}"
        assert not ARTICLE_START.match(line), f"article number not in bold: {line[:30]!r}"
        assert not CHAPTER_START.match(line), f"chapter not a heading: {line[:30]!r}"


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_no_furniture_in_page(policy: Policy) -> None:
    """No web-page furniture (navigation, source lines, print controls, links, footers) is shown."""
    page = normalise((PAGES / f"{policy.slug}.md").read_text(encoding="utf-8"))
    for piece in policy.furniture:
        assert normalise(piece) not in page, piece
    for marker in ("民生资讯网", "打印字号", "bookmark", "当前所在", "原文链接", "免责声明"):
        assert marker not in page, marker


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_front_matter_comes_from_the_seed(seeds: Path, policy: Policy) -> None:
    """Title, issuer, document number and issue date are taken whole from the document.

    The title and the number are whole lines of the seed; the issuer is the signature block (one
    or more lines) directly above the issue date, so a truncated or invented issuer fails.
    """
    lines = [line for line in document_text(policy, read_seed(seeds, policy)).splitlines() if line]
    meta, _ = split_page(policy)
    assert normalise(meta["title"]) in lines
    if meta["document_no"]:
        assert normalise(meta["document_no"]) in lines
    issued = meta["date"]
    date_line = f"{issued.year}年{issued.month}月{issued.day}日"
    assert date_line in lines
    signed = lines.index(date_line)
    blocks = {"".join(lines[start:signed]) for start in range(signed)}
    assert normalise(meta["issuer"]) in blocks, "issuer is the signature block above the date"
    values = {normalise(str(meta[key])) for key in ("title", "issuer", "document_no")}
    for line in policy.header_lines:
        assert normalise(line) in values, f"header line left to the template: {line}"


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_furniture_list_matches_the_seed(seeds: Path, policy: Policy) -> None:
    """Every furniture string is really in the seed, so the furniture check cannot go stale."""
    seed = normalise(read_seed(seeds, policy))
    for piece in policy.furniture:
        assert normalise(piece) in seed, piece


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_every_sentence_is_kept_in_order(seeds: Path, policy: Policy) -> None:
    """Every sentence of the document is on the page verbatim and in the seed's order.

    Only the heading lines that the template shows from the front matter may be left out.
    """
    seed = document_text(policy, read_seed(seeds, policy))
    _, body = split_page(policy)
    page = normalise(body)
    header = [normalise(line) for line in policy.header_lines]
    position = 0
    for sentence in chunks(seed):
        if sentence in header:
            header.remove(sentence)
            continue
        found = page.find(sentence, position)
        assert found >= 0, f"missing or out of order: {sentence}"
        position = found + len(sentence)
    assert not header, f"header lines not found in the seed: {header}"


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_nothing_is_added(seeds: Path, policy: Policy) -> None:
    """Every sentence of the page body is document text: no summaries, no editorial headings."""
    seed = document_text(policy, read_seed(seeds, policy)).replace("\n", "")
    _, body = split_page(policy)
    for sentence in chunks(body):
        assert sentence in seed, f"not in the seed: {sentence}"


def test_index_lists_every_policy() -> None:
    """The policy index links every page and repeats its title, issuer, number and date."""
    meta, body = split_front_matter((PAGES / "index.md").read_text(encoding="utf-8"))
    assert meta == {"title": "政策文件"}
    linked = set(re.findall(r"\]\(([^)]+)\)", body))
    pages = {p.name for p in PAGES.glob("*.md")} - {"index.md"}
    assert linked == pages == {f"{p.slug}.md" for p in POLICIES}
    for policy in POLICIES:
        page, _ = split_page(policy)
        issued = page["date"]
        for value in (page["title"], page["issuer"], page["document_no"]):
            assert value in body, value
        assert f"{issued.year}年{issued.month}月{issued.day}日" in body
