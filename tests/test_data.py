"""transformer.data: the vocabulary, batching, and the copy, reverse and dates tasks.

The dates formats are checked against an oracle independent of the generator: each surface
string is parsed back with ``time.strptime`` (C locale: English names, case-insensitive).
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import transformer.data as data
from transformer.data import (
    BOS_ID,
    CASE_STYLES,
    DATE_FORMATS,
    DATE_MAX,
    DATE_MIN,
    EOS_ID,
    PAD_ID,
    Vocab,
    collate,
    expand_two_digit_year,
    make_task,
    render_date,
)

# format name -> the strptime pattern that reads it back. Ordinal suffixes are stripped first.
STRPTIME = {
    "weekday_day_month_year_comma": "%A, %d %B %Y",
    "weekday_day_month_year": "%A %d %B %Y",
    "weekday_month_day_year": "%A, %B %d, %Y",
    "wkd_mon_day_year": "%a, %b %d %Y",
    "wkd_day_mon_year": "%a %d %b %Y",
    "month_day_year_comma": "%B %d, %Y",
    "month_day_year": "%B %d %Y",
    "mon_day_year_comma": "%b %d, %Y",
    "day_month_year": "%d %B %Y",
    "day_mon_year": "%d %b %Y",
    "dd_mon_year_dashes": "%d-%b-%Y",
    "the_ordinal_of_month_year": "the %d of %B %Y",
    "month_ordinal_year": "%B %d, %Y",
    "us_mm_dd_yy": "%m/%d/%y",
    "us_mm_dd_yyyy": "%m/%d/%Y",
    "us_m_d_yyyy": "%m/%d/%Y",
    "dotted_dd_mm_yyyy": "%d.%m.%Y",
    "dotted_dd_mm_yy": "%d.%m.%y",
    "yyyy_mm_dd_slashes": "%Y/%m/%d",
    "iso": "%Y-%m-%d",
    "yyyymmdd": "%Y%m%d",
}
# Zero-padded numeric formats must have exactly this shape.
SHAPES = {
    "us_mm_dd_yy": r"\d\d/\d\d/\d\d",
    "us_mm_dd_yyyy": r"\d\d/\d\d/\d{4}",
    "us_m_d_yyyy": r"[1-9]\d?/[1-9]\d?/\d{4}",
    "dotted_dd_mm_yyyy": r"\d\d\.\d\d\.\d{4}",
    "dotted_dd_mm_yy": r"\d\d\.\d\d\.\d\d",
    "dd_mon_year_dashes": r"\d\d-[A-Za-z]{3}-\d{4}",
    "yyyy_mm_dd_slashes": r"\d{4}/\d\d/\d\d",
    "iso": r"\d{4}-\d\d-\d\d",
    "yyyymmdd": r"\d{8}",
}
ORDINAL_SUFFIX = re.compile(r"(\d)(st|nd|rd|th)\b", re.IGNORECASE)
EDGE_DATES = [
    DATE_MIN,
    DATE_MAX,
    dt.date(1969, 12, 31),  # strptime's own %y pivot is 69
    dt.date(1968, 7, 4),
    dt.date(1999, 12, 31),
    dt.date(2000, 1, 1),
    dt.date(2000, 2, 29),
    dt.date(2026, 11, 25),
    dt.date(2022, 9, 28),
    dt.date(2011, 1, 1),
    dt.date(2012, 2, 2),
    dt.date(2013, 3, 3),
    dt.date(2014, 4, 11),
    dt.date(2015, 5, 12),
    dt.date(2016, 6, 13),
    dt.date(2017, 7, 21),
    dt.date(2018, 8, 22),
    dt.date(2019, 10, 23),
]


def parse_back(text: str, fmt: str) -> dt.date:
    """The date ``text`` names, read by strptime and this project's two-digit-year rule."""
    parsed = time.strptime(ORDINAL_SUFFIX.sub(r"\1", text), STRPTIME[fmt])
    year = parsed.tm_year
    if "%y" in STRPTIME[fmt]:
        year = 1900 + year % 100 if year % 100 >= 50 else 2000 + year % 100
    return dt.date(year, parsed.tm_mon, parsed.tm_mday)


def random_dates(n: int, seed: int) -> list[dt.date]:
    offsets = np.random.default_rng(seed).integers(0, (DATE_MAX - DATE_MIN).days + 1, size=n)
    return [DATE_MIN + dt.timedelta(days=int(k)) for k in offsets]


@pytest.fixture(scope="module")
def dates_task() -> data.DatesTask:
    return make_task("dates", seed=0)


# --- Vocab ----------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=data.DATE_CHARS, max_size=40))
def test_vocab_round_trip(text):
    vocab = Vocab(data.DATE_CHARS)
    ids = vocab.encode(text)
    assert len(ids) == len(text)
    assert all(3 <= i < len(vocab) for i in ids)
    assert vocab.decode(ids) == text
    assert vocab.decode([BOS_ID, *ids, EOS_ID, PAD_ID]) == text
    assert vocab.decode(np.array([BOS_ID, *ids, EOS_ID], dtype=np.int64)) == text


def test_vocab_special_ids_and_size():
    vocab = Vocab("abc")
    assert (PAD_ID, BOS_ID, EOS_ID) == (0, 1, 2)
    assert len(vocab) == 6
    assert vocab.encode("cab") == [5, 3, 4]


def test_vocab_decode_stops_at_eos_and_skips_pad_bos():
    vocab = Vocab("abc")
    assert vocab.decode([BOS_ID, 3, PAD_ID, 4, EOS_ID, 5, 5]) == "ab"
    assert vocab.decode([EOS_ID, 3]) == ""
    assert vocab.decode_batch(np.array([[1, 3, 2, 0], [1, 5, 4, 2]])) == ["a", "cb"]


def test_vocab_unknown_character_names_it():
    vocab = Vocab("abc")
    with pytest.raises(ValueError, match=r"unknown character\(s\) \['!', 'z'\]"):
        vocab.encode("az!a")


def test_vocab_bad_inputs():
    with pytest.raises(ValueError, match="repeat"):
        Vocab("abca")
    with pytest.raises(ValueError, match="single characters"):
        Vocab(["a", "bc"])
    vocab = Vocab("abc")
    with pytest.raises(ValueError, match="outside"):
        vocab.decode([3, 6])
    with pytest.raises(ValueError, match="one-dimensional"):
        vocab.decode(np.zeros((2, 2), dtype=np.int64))


def test_vocab_dict_is_json_and_round_trips():
    vocab = Vocab(data.DATE_CHARS)
    restored = Vocab.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert restored == vocab and len(restored) == len(vocab)
    assert restored.encode("Nov 5, 2026") == vocab.encode("Nov 5, 2026")
    with pytest.raises(ValueError, match="special tokens"):
        Vocab.from_dict({"kind": "char", "specials": ["<bos>", "<pad>", "<eos>"], "chars": "a"})
    with pytest.raises(ValueError, match="kind"):
        Vocab.from_dict({"chars": "a"})


# --- collate --------------------------------------------------------------------------------


def test_collate_layout():
    batch = collate([([5, 6, 7], [8, 9]), ([5], [10, 11, 12, 13])])
    np.testing.assert_array_equal(batch.src, [[5, 6, 7], [5, PAD_ID, PAD_ID]])
    np.testing.assert_array_equal(
        batch.tgt_in, [[BOS_ID, 8, 9, PAD_ID, PAD_ID], [BOS_ID, 10, 11, 12, 13]]
    )
    np.testing.assert_array_equal(
        batch.tgt_out, [[8, 9, EOS_ID, PAD_ID, PAD_ID], [10, 11, 12, 13, EOS_ID]]
    )
    for array in (batch.src, batch.tgt_in, batch.tgt_out):
        assert array.dtype == np.int64
    # teacher forcing: the label at t is the input at t + 1
    np.testing.assert_array_equal(batch.tgt_out[1, :-1], batch.tgt_in[1, 1:])
    assert len(batch) == 2 and batch.num_tgt_tokens == 2 + 1 + 4 + 1


def test_collate_fixed_widths_and_errors():
    batch = collate([([5], [6])], src_width=4, tgt_width=3)
    np.testing.assert_array_equal(batch.src, [[5, PAD_ID, PAD_ID, PAD_ID]])
    np.testing.assert_array_equal(batch.tgt_in, [[BOS_ID, 6, PAD_ID]])
    np.testing.assert_array_equal(batch.tgt_out, [[6, EOS_ID, PAD_ID]])
    with pytest.raises(ValueError, match="no pairs"):
        collate([])
    with pytest.raises(ValueError, match="empty"):
        collate([([5], [6]), ([], [6])])
    with pytest.raises(ValueError, match="src_width=1"):
        collate([([5, 5], [6])], src_width=1)
    with pytest.raises(ValueError, match="tgt_width=2"):
        collate([([5], [6, 6])], tgt_width=2)
    with pytest.raises(ValueError, match="source ids must be >= 3"):
        collate([([5, PAD_ID], [6])])
    with pytest.raises(ValueError, match="target ids must be >= 3"):
        collate([([5], [EOS_ID])])


# --- copy and reverse -----------------------------------------------------------------------


def test_copy_task():
    task = make_task("copy", seed=0)
    assert len(task.vocab) == 13 and task.max_src_len == task.max_tgt_len == 10
    ids = task.vocab.encode(data.SYMBOLS)
    assert ids == list(range(3, 13))  # ten symbols, none on a special id
    pairs = task.sample_train(200, np.random.default_rng(0)) + task.test_pairs
    assert all(src == tgt and len(src) == 10 for src, tgt in pairs)
    assert set("".join(src for src, _ in pairs)) == set(data.SYMBOLS)
    batch = next(task.train_batches(8, 0))
    assert batch.src.shape == (8, 10) and batch.tgt_in.shape == batch.tgt_out.shape == (8, 11)


def test_reverse_task_pads_variable_lengths():
    task = make_task("reverse", seed=0)
    assert task.max_src_len == task.max_tgt_len == 12 and task.max_positions == 13
    pairs = task.sample_train(500, np.random.default_rng(0))
    assert all(tgt == src[::-1] for src, tgt in pairs + task.test_pairs)
    assert {len(src) for src, _ in pairs} == set(range(5, 13))
    batch = task.make_batch(pairs[:64])
    lengths = (batch.src != PAD_ID).sum(axis=1)
    np.testing.assert_array_equal(lengths, [len(src) for src, _ in pairs[:64]])
    assert (batch.tgt_out == EOS_ID).sum() == 64
    assert task.decode_batch(batch.tgt_in) == [tgt for _, tgt in pairs[:64]]


def test_sequence_tasks_never_train_on_held_out():
    task = make_task("reverse", seed=1, min_len=2, max_len=3, test_size=200, val_size=200)
    held_out = {src for src, _ in task.test_pairs + task.val_pairs}
    assert len(held_out) == 400  # unique, and test and val disjoint
    train = {src for src, _ in task.sample_train(3000, np.random.default_rng(0))}
    assert not train & held_out
    with pytest.raises(ValueError, match="too few"):
        make_task("copy", seed=0, length=2)  # 100 sources cannot hold out 2000


# --- dates ----------------------------------------------------------------------------------


def test_at_least_fourteen_formats_all_with_an_oracle():
    assert len(DATE_FORMATS) >= 14
    assert set(STRPTIME) == set(DATE_FORMATS)


def test_every_date_format_and_case_parses_back():
    for date in EDGE_DATES + random_dates(40, seed=0):
        for fmt in DATE_FORMATS:
            for case in CASE_STYLES:
                text = render_date(date, fmt, case)
                assert parse_back(text, fmt) == date, (fmt, case, text)
                if fmt in SHAPES:
                    assert re.fullmatch(SHAPES[fmt], text), (fmt, text)


def test_weekday_names_are_right():
    for date in EDGE_DATES + random_dates(100, seed=1):
        for fmt, template in DATE_FORMATS.items():
            if "{weekday}" not in template and "{wkd}" not in template:
                continue
            text = render_date(date, fmt)
            name = text.split(",")[0].split()[0]
            pattern = "%A" if "{weekday}" in template else "%a"
            assert time.strptime(name, pattern).tm_wday == date.weekday(), (fmt, text)


def test_case_styles():
    date = dt.date(2026, 11, 25)
    assert render_date(date, "the_ordinal_of_month_year", "title") == "The 25th Of November 2026"
    assert render_date(date, "wkd_mon_day_year", "upper") == "WED, NOV 25 2026"
    assert render_date(date, "month_day_year", "lower") == "november 25 2026"
    with pytest.raises(ValueError, match="case style"):
        render_date(date, "iso", "camel")
    with pytest.raises(ValueError, match="unknown format"):
        render_date(date, "dd/mm/yyyy")
    with pytest.raises(ValueError, match="outside"):
        render_date(dt.date(2050, 1, 1), "iso")


def test_two_digit_years_match_the_date_range():
    assert expand_two_digit_year(50) == 1950 == DATE_MIN.year
    assert expand_two_digit_year(49) == 2049 == DATE_MAX.year
    assert expand_two_digit_year(0) == 2000 and expand_two_digit_year(99) == 1999
    with pytest.raises(ValueError):
        expand_two_digit_year(100)


def test_no_surface_form_names_two_dates():
    # A whole year has every (day <= 12, month <= 12) swap; add random days across the century.
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=k) for k in range(365)]
    seen: dict[str, dt.date] = {}
    for date in days + random_dates(300, seed=2):
        for fmt in DATE_FORMATS:
            for case in CASE_STYLES:
                text = render_date(date, fmt, case)
                assert seen.setdefault(text, date) == date, (text, seen[text], date)


def test_dates_splits_are_disjoint(dates_task):
    train, val, test = (dates_task.split_dates(s) for s in ("train", "val", "test"))
    assert len(test) == len(val) == 1000
    assert not train & test and not train & val and not val & test
    assert len(train | val | test) == (DATE_MAX - DATE_MIN).days + 1
    assert {dt.date.fromisoformat(tgt) for _, tgt in dates_task.test_pairs} == test
    assert {dt.date.fromisoformat(tgt) for _, tgt in dates_task.val_pairs} == val
    sampled = dates_task.sample_train(5000, np.random.default_rng(0))
    assert {dt.date.fromisoformat(tgt) for _, tgt in sampled} <= train


def test_dates_pairs_are_right_and_fit(dates_task):
    assert len(dates_task.vocab) == 70
    assert dates_task.max_tgt_len == 10 and dates_task.max_src_len == 29
    held_out = list(zip(dates_task.test_pairs, dates_task.test_formats))
    for (src, tgt), (fmt, _) in held_out:
        assert parse_back(src, fmt).isoformat() == tgt
    assert {fmt for fmt, _ in dates_task.test_formats} == set(DATE_FORMATS)
    assert {case for _, case in dates_task.test_formats} == set(CASE_STYLES)
    pairs = dates_task.sample_train(2000, np.random.default_rng(1)) + dates_task.test_pairs
    assert max(len(src) for src, _ in pairs) <= dates_task.max_src_len
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", tgt) for _, tgt in pairs)
    # the bound is reached by a real date
    longest = render_date(dt.date(2022, 9, 28), "weekday_month_day_year")
    assert len(longest) == dates_task.max_src_len
    batch = dates_task.make_batch(pairs, fixed_shape=True)
    assert batch.src.shape == (len(pairs), 29) and batch.tgt_in.shape == (len(pairs), 11)


def test_held_out_sets_are_fixed_by_the_seed(dates_task):
    again = make_task("dates", seed=0)
    assert again.test_pairs == dates_task.test_pairs and again.val_pairs == dates_task.val_pairs
    other = make_task("dates", seed=1)
    assert other.split_dates("test") != dates_task.split_dates("test")
    small = make_task("dates", seed=3, test_size=250, val_size=0)
    assert len(small.test_pairs) == 250 and small.val_pairs == []
    rebuilt = make_task(**json.loads(json.dumps(small.config)))
    assert rebuilt.test_pairs == small.test_pairs
    for name in ("copy", "reverse"):
        assert make_task(name, seed=5).test_pairs == make_task(name, seed=5).test_pairs
        assert make_task(name, seed=5).test_pairs != make_task(name, seed=6).test_pairs


# --- iterators and scoring ------------------------------------------------------------------


def test_train_batches_reproducible(dates_task):
    first = next(data.batches(dates_task, 16, rng=7))
    second = next(data.batches(dates_task, 16, rng=np.random.default_rng(7)))
    assert first.src_text == second.src_text
    np.testing.assert_array_equal(first.src, second.src)
    stream = dates_task.train_batches(16, 7)
    assert next(stream).src_text == first.src_text
    assert next(stream).src_text != first.src_text  # the stream moves on


def test_eval_batches_cover_the_held_out_set_in_order(dates_task):
    batches = list(data.eval_batches(dates_task, 300))
    assert [len(b) for b in batches] == [300, 300, 300, 100]
    assert [p for b in batches for p in zip(b.src_text, b.tgt_text)] == dates_task.test_pairs
    assert sum(len(b) for b in dates_task.eval_batches(1000, "val")) == 1000
    with pytest.raises(ValueError, match="split"):
        next(dates_task.eval_batches(10, "train"))


def test_exact_match(dates_task):
    batch = next(dates_task.eval_batches(4))
    predictions = batch.tgt_out.copy()  # a perfect model: target then EOS
    assert dates_task.exact_match(predictions, batch.tgt_text) == 1.0
    with_bos = np.concatenate([np.full((4, 1), BOS_ID), predictions], axis=1)
    assert dates_task.exact_match(with_bos, batch.tgt_text) == 1.0
    predictions[0, 0] = dates_task.vocab.encode("x")[0]
    predictions[1, 3] = EOS_ID  # stops early
    assert dates_task.exact_match(predictions, batch.tgt_text) == 0.5
    with pytest.raises(ValueError, match="3 predictions for 4 targets"):
        dates_task.exact_match(predictions[:3], batch.tgt_text)


def test_make_task_errors():
    with pytest.raises(ValueError, match="unknown task 'sort'"):
        make_task("sort", seed=0)
    with pytest.raises(ValueError, match="min_len"):
        make_task("dates", seed=0, min_len=3)
    with pytest.raises(ValueError, match="batch_size"):
        next(make_task("copy", seed=0).train_batches(0))


def test_data_imports_only_numpy_and_the_standard_library():
    tree = ast.parse(Path(data.__file__).read_text())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module.split(".")[0])
    assert modules - set(sys.stdlib_module_names) == {"numpy"}
