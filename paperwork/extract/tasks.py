"""Which sentences of a notice assign work, to which unit, with whom, by when."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from models.calendar import WorkingCalendar
from paperwork.extract.deadlines import Deadline, find_deadline, find_recurrence
from paperwork.extract.names import LIST_GLUE, Mention, UnitIndex, fold, spans
from paperwork.extract.outline import PLAIN, marker, split_sentences, table_columns
from paperwork.extract.reading import Block


@dataclass
class ProposedTask:
    item: str
    content: str
    lead_unit: str | None
    lead_unit_text: str | None
    coordinating_units: list[str] = field(default_factory=list)
    deadline: Deadline = field(default_factory=lambda: Deadline(None, None))
    recurrence: str | None = None


# Openings of what reports, weighs or closes rather than assigns.
_NOT_TASK_START = re.compile(
    r"^(ngày \d|tham dự|dự họp|sau khi|căn cứ|theo báo cáo|theo đề nghị|trên cơ sở|"
    r"(trong )?thời gian qua|trong (những )?năm qua|năm \d{4}|năm (học )?vừa qua|nhìn chung|"
    r"tuy nhiên|tuy vậy|bên cạnh đó|qua kiểm tra|tại cuộc họp|tại buổi|nơi nhận|kính gửi|"
    r"trong quá trình thực hiện|trên đây|nhận được|để |nhằm |chịu trách nhiệm|"
    r"cơ bản thống nhất|thống nhất với|kết quả|một số |đến hết ngày|ông |bà )"
)
_NOT_TASK_WORDS = re.compile(
    r"(thông báo để|ghi nhận|đánh giá cao|biểu dương|kết luận như sau|chỉ đạo như sau|"
    r"\blưu ý|thống nhất chủ trương|nhận thấy)"
)
_ASSESSMENT_HEADING = re.compile(r"(đánh giá|tình hình|mục đích|mục tiêu|quan điểm|kết quả)")
_DIRECTIVES = [
    ("giao", "nhiệm", "vụ", "cho"),
    ("đồng", "ý", "giao"),
    ("thống", "nhất", "giao"),
    ("giao",),
    ("yêu", "cầu"),
    ("đề", "nghị"),
    ("chỉ", "đạo"),
    ("phân", "công"),
]
_TITLES = [
    ("đồng", "chí"),
    ("phó",),
    ("giám", "đốc"),
    ("chủ", "tịch"),
    ("thủ", "trưởng"),
    ("chánh",),
    ("trưởng", "ban"),
    ("người", "đứng", "đầu"),
    ("lãnh", "đạo"),
    ("đối", "với"),
]
# The issuing People's Committee (of a city or a province) speaking: `UBND tỉnh yêu cầu …`.
_ISSUERS = [("ủy", "ban", "nhân", "dân", "thành", "phố"), ("ủy", "ban", "nhân", "dân", "tỉnh")]
_GROUP_WORDS = frozenset(
    [
        "các",
        "sở",
        "ban",
        "ngành",
        "ủy",
        "nhân",
        "dân",
        "quận",
        "huyện",
        "thị",
        "xã",
        "phường",
        "cơ",
        "quan",
        "đơn",
        "vị",
        "liên",
        "địa",
        "phương",
        "chủ",
        "đầu",
        "tư",
        "thành",
        "phố",
        "và",
        ",",
        "thủ",
        "trưởng",
        "tịch",
        "giám",
        "đốc",
        "thuộc",
        "trực",
    ]
)
_GROUP_START = re.compile(
    r"^(các (sở|cơ quan|đơn vị|ban|chủ đầu tư|quận|huyện|địa phương)|ủy ban nhân dân các)"
)
_UNIT_LIKE = re.compile(r"^(sở|ủy ban nhân dân|ban quản lý|phòng|công an|thanh tra|văn phòng)\b")
_PAST = frozenset({"đã", "chưa", "vẫn", "đang", "mới"})
_DEADLINE_ONLY = re.compile(r"^(thời hạn|hạn hoàn thành|thời gian hoàn thành|hoàn thành trước)")


def _starts(words: list[str], pos: int, options) -> int:
    for option in options:
        if tuple(words[pos : pos + len(option)]) == option:
            return len(option)
    return 0


@dataclass
class Subject:
    """Who a sentence (or a heading ending in `:`) addresses: named units, or a group."""

    codes: list[str]
    text: str | None
    group: bool = False
    end: int = 0  # the word after it


class Reader:
    def __init__(self, index: UnitIndex, issued: date | None, working: WorkingCalendar) -> None:
        self.index = index
        self.issued = issued
        self.working = working

    def subject(self, sentence: str) -> tuple[Subject | None, bool, list, list[Mention]]:
        """The addressee at the start of a sentence, whether a directive verb came first, the
        folded words with their places, and the units named."""
        found = spans(sentence)
        words = [w for w, _, _ in found]
        mentions = self.index.mentions(words)
        pos, directive = 0, False
        while step := _starts(words, pos, [("đồng", "chí")]):
            pos += step
        leader = pos
        leader += _starts(words, leader, [("phó", "chủ", "tịch"), ("chủ", "tịch")])
        if issuer := _starts(words, leader, _ISSUERS):
            after = leader + issuer
            step = _starts(words, after, _DIRECTIVES)
            if step:
                pos, directive = after + step, True
            else:
                return None, False, found, mentions
        elif step := _starts(words, pos, _DIRECTIVES):
            pos, directive = pos + step, True
        while step := _starts(words, pos, _TITLES):
            pos += step
        ahead = " ".join(words[pos:])
        if _GROUP_START.match(ahead) or ahead.startswith(("các quận", "các huyện")):
            end = pos
            while end < len(words) and words[end] in _GROUP_WORDS:
                end += 1
            text = sentence[found[pos][1] : found[end - 1][2]] if end > pos else None
            return Subject([], text, group=True, end=end), directive, found, mentions
        first = next((m for m in mentions if m.start == pos), None)
        if first is None:
            if directive and _UNIT_LIKE.match(ahead):
                return Subject([], None, group=True), directive, found, mentions
            return None, directive, found, mentions
        chain = [first]
        for m in mentions:
            if m.start <= chain[-1].start:
                continue
            gap = words[chain[-1].end : m.start]
            if gap and all(w in LIST_GLUE and w not in ("với", "cùng") for w in gap):
                chain.append(m)
            else:
                break
        codes = list(dict.fromkeys(m.code for m in chain))
        text = sentence[found[first.start][1] : found[first.end - 1][2]]
        return Subject(codes, text, end=chain[-1].end), directive, found, mentions

    def coordinating(self, words: list[str], mentions: list[Mention], lead: str | None):
        codes: list[str] = []
        for i in range(len(words) - 1):
            if (words[i], words[i + 1]) != ("phối", "hợp"):
                continue
            boundary = i + 2
            for m in mentions:
                if m.start < boundary:
                    continue
                gap = words[boundary : m.start]
                if all(w in LIST_GLUE or w in _GROUP_WORDS or w in ("chặt", "chẽ") for w in gap):
                    codes.append(m.code)
                    boundary = m.end
                else:
                    break
        return [c for c in dict.fromkeys(codes) if c != lead]

    def sentence_tasks(
        self, sentence: str, item: str, inherited: Subject | None
    ) -> list[ProposedTask]:
        folded = " ".join(fold(sentence).split())
        if (
            _NOT_TASK_START.match(folded)
            or _NOT_TASK_WORDS.search(folded)
            or folded.endswith("./.")
            or folded.endswith(":")
        ):
            return []
        subject, _, found, mentions = self.subject(sentence)
        words = [w for w, _, _ in found]
        if subject is not None and any(w in _PAST for w in words[subject.end : subject.end + 6]):
            return []
        lead_by_chair = None
        for i in range(1, len(words) - 1):
            if (words[i], words[i + 1]) == ("chủ", "trì"):
                before = next((m for m in mentions if m.end == i), None)
                if before is not None:
                    lead_by_chair = before
                    break
        if lead_by_chair is not None:
            text = sentence[found[lead_by_chair.start][1] : found[lead_by_chair.end - 1][2]]
            leads = [(lead_by_chair.code, text)]
        elif subject is not None and subject.codes:
            leads = [(code, subject.text) for code in subject.codes]
        elif subject is not None and subject.group:
            leads = [(None, subject.text)]
        elif inherited is not None and subject is None:
            leads = [(code, inherited.text) for code in inherited.codes] or [(None, inherited.text)]
        else:
            return []
        deadline = find_deadline(sentence, self.issued, self.working)
        recurrence = find_recurrence(sentence)
        content = sentence.rstrip(" ;")
        return [
            ProposedTask(
                item,
                content,
                code,
                text,
                self.coordinating(words, mentions, code),
                deadline,
                recurrence,
            )
            for code, text in leads
        ]

    def parent(self, text: str) -> Subject | None:
        """A heading like `1. Giám đốc Sở Xây dựng:`: the sentences under it address the unit."""
        subject, _, _, _ = self.subject(text.rstrip(":"))
        return subject

    def deadline_only(self, sentence: str) -> Deadline | None:
        if _DEADLINE_ONLY.match(fold(sentence)):
            found = find_deadline(sentence, self.issued, self.working)
            return found if found.text else None
        return None

    def trailing_deadline(self, sentence: str) -> Deadline | None:
        """The deadline of a sentence that only continues the task before it."""
        folded = " ".join(fold(sentence).split())
        if _NOT_TASK_START.match(folded) or _NOT_TASK_WORDS.search(folded):
            return None
        subject, _, _, _ = self.subject(sentence)
        if subject is not None:
            return None
        found = find_deadline(sentence, self.issued, self.working)
        return found if found.day is not None else None

    def table_row(self, row: tuple[str, ...], columns: dict[str, int]) -> list[ProposedTask]:
        def cell(name: str) -> str:
            index = columns.get(name)
            return " ".join(row[index].split()) if index is not None and index < len(row) else ""

        content, lead_text, when = cell("content"), cell("lead"), cell("deadline")
        if not content or (not lead_text and not when):
            return []
        lead_mentions = self.index.mentions([w for w, _, _ in spans(lead_text)])
        lead = lead_mentions[0].code if lead_mentions else None
        coordinating = [
            m.code
            for m in self.index.mentions([w for w, _, _ in spans(cell("coordinating"))])
            if m.code != lead
        ]
        deadline = find_deadline(when, self.issued, self.working, cell=True)
        return [
            ProposedTask(
                cell("item"),
                content,
                lead,
                lead_text or None,
                list(dict.fromkeys(coordinating)),
                deadline,
                find_recurrence(when) or find_recurrence(content),
            )
        ]


def find_tasks(
    blocks: list[Block], index: UnitIndex, issued: date | None, working: WorkingCalendar
) -> list[ProposedTask]:
    reader = Reader(index, issued, working)
    tasks: list[ProposedTask] = []
    parents: list[tuple[int, Subject | None]] = []
    labels: dict[int, str] = {}
    counters: dict[int, int] = {}
    assessment: int | None = None
    columns: dict[str, int] | None = None
    previous: list[ProposedTask] = []
    for block in blocks:
        if block.cells:
            header = table_columns(block.cells)
            if header is not None:
                columns = header
            elif columns is not None:
                tasks += reader.table_row(block.cells, columns)
            continue
        columns = None
        level, label, text = marker(Block(" ".join(block.text.split()), block.list_item))
        if level != PLAIN:
            parents = [(lv, s) for lv, s in parents if lv < level]
            if assessment is not None and level <= assessment:
                assessment = None
            for deeper in [lv for lv in labels if lv >= level]:
                labels.pop(deeper)
            counters[level] = counters.get(level, 0) + 1 if level in labels or label else 1
            labels[level] = label or str(counters[level])
            for deeper in [lv for lv in counters if lv > level]:
                counters.pop(deeper)
        if assessment is not None:
            continue
        stripped = text.strip()
        is_heading = not stripped.endswith((".", ":", ";")) and len(stripped) < 100
        if is_heading and level != PLAIN and _ASSESSMENT_HEADING.search(fold(stripped)):
            assessment = level
            continue
        if stripped.endswith(":"):
            parents.append((level, reader.parent(stripped)))
            continue
        inherited = next((s for _, s in reversed(parents) if s is not None), None)
        item = ".".join(
            labels[lv]
            for lv in sorted(labels)
            if lv > 0 and not (lv == 1 and "." in labels.get(2, ""))
        )
        in_block: list[ProposedTask] = []
        for sentence in split_sentences(stripped):
            extra = reader.deadline_only(sentence)
            if extra is not None:
                for task in in_block:
                    if task.deadline.day is None:
                        task.deadline = extra
                continue
            found = reader.sentence_tasks(sentence, item, inherited)
            if not found and in_block:
                # `Yêu cầu hoàn thành trước ngày …` after the task, with no subject of its own.
                extra = reader.trailing_deadline(sentence)
                for task in in_block:
                    if extra is not None and task.deadline.day is None:
                        task.deadline = extra
            in_block += found
        if not in_block and previous and level == PLAIN:
            # `Báo cáo gửi về … chậm nhất ngày …`: a paragraph that only dates the task above.
            for sentence in split_sentences(stripped):
                extra = reader.trailing_deadline(sentence)
                for task in previous:
                    if extra is not None and task.deadline.day is None:
                        task.deadline = extra
        previous = in_block or previous
        tasks += in_block
    return tasks
