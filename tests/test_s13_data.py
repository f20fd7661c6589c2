"""minigrad.utils.data against torch.utils.data: batching, collate, samplers, splits, errors,
and worker processes (order, seeding, errors, timeouts, persistence)."""

from __future__ import annotations

import collections
import itertools
import os
import time

import numpy as np
import pytest

import minigrad as mg
from minigrad.utils import data as mdata

torch = pytest.importorskip("torch")
tdata = torch.utils.data


def _plain(x):
    """A batch as plain Python (lists, dicts, tuples of (dtype name, values)) for comparison."""
    if isinstance(x, mg.Tensor):
        return ("tensor", str(x.dtype).replace("minigrad.", ""), x.tolist())
    if isinstance(x, torch.Tensor):
        return ("tensor", str(x.dtype).replace("torch.", ""), x.tolist())
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, [_plain(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_plain(v) for v in x])
    if isinstance(x, np.ndarray):
        return ("ndarray", x.dtype.str, x.tolist())
    return x


Point = collections.namedtuple("Point", "x y")

SAMPLES = {
    "floats": [1.5, 2.0, -3.0],
    "ints": [1, 2, 3],
    "bools": [True, False, True],
    "strings": ["a", "bb", "c"],
    "float32 arrays": [np.full((2, 3), i, np.float32) for i in range(3)],
    "int arrays": [np.arange(4) + i for i in range(3)],
    "numpy scalars": [np.float32(i) for i in range(3)],
    "numpy int scalars": [np.int16(i) for i in range(3)],
    "dicts": [{"a": i, "b": [float(i), 2.0], "c": "s"} for i in range(3)],
    "tuples": [(i, float(i)) for i in range(3)],
    "lists": [[i, i + 1] for i in range(3)],
    "named tuples": [Point(np.ones(2) * i, i) for i in range(3)],
    "nested": [{"p": (np.arange(3) * i, {"q": float(i)})} for i in range(3)],
}


def _to_torch(sample):
    if isinstance(sample, mg.Tensor):
        return torch.tensor(sample.numpy())
    return sample


@pytest.mark.parametrize("name", list(SAMPLES))
def test_default_collate_matches_pytorch(name):
    batch = SAMPLES[name]
    assert _plain(mdata.default_collate(batch)) == _plain(tdata.default_collate(batch))


@pytest.mark.parametrize("name", list(SAMPLES))
def test_default_convert_matches_pytorch(name):
    sample = SAMPLES[name][1]
    assert _plain(mdata.default_convert(sample)) == _plain(tdata.default_convert(sample))


def test_collating_tensors_stacks_them_and_refuses_unequal_shapes():
    out = mdata.default_collate([mg.ones(2, 3), mg.zeros(2, 3)])
    assert out.shape == (2, 2, 3)
    with pytest.raises(Exception, match=r"\(2, 3\).*\(3, 2\)|\(3, 2\).*\(2, 3\)"):
        mdata.default_collate([mg.ones(2, 3), mg.zeros(3, 2)])
    with pytest.raises(RuntimeError, match="equal size"):
        mdata.default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="default_collate"):
        mdata.default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate"):
        mdata.default_collate([np.array(["a"]), np.array(["b"])])


@pytest.mark.parametrize(
    "n,batch_size,drop_last", list(itertools.product((0, 1, 7, 8), (1, 3, 8), (False, True)))
)
def test_sequential_batches_match_pytorch(n, batch_size, drop_last):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    ours = mdata.DataLoader(
        mdata.TensorDataset(mg.tensor(x), mg.tensor(y)), batch_size=batch_size, drop_last=drop_last
    )
    theirs = tdata.DataLoader(
        tdata.TensorDataset(torch.tensor(x), torch.tensor(y)),
        batch_size=batch_size,
        drop_last=drop_last,
    )
    assert len(ours) == len(theirs)
    assert [_plain(b) for b in ours] == [_plain(b) for b in theirs]


def test_batch_size_none_converts_each_sample():
    ds = [np.arange(3), np.arange(3) + 1]
    ours = [_plain(b) for b in mdata.DataLoader(ds, batch_size=None)]
    theirs = [_plain(b) for b in tdata.DataLoader(ds, batch_size=None)]
    assert ours == theirs


@pytest.mark.parametrize("drop_last", (False, True))
@pytest.mark.parametrize("shuffle", (False, True))
@pytest.mark.parametrize("n,replicas", [(10, 3), (9, 3), (2, 4), (1, 1), (7, 2), (0, 2)])
def test_distributed_sampler_follows_pytorchs_rules(n, replicas, shuffle, drop_last):
    ours = [
        mdata.DistributedSampler(range(n), replicas, r, shuffle=shuffle, drop_last=drop_last)
        for r in range(replicas)
    ]
    theirs = [
        tdata.DistributedSampler(range(n), replicas, r, shuffle=shuffle, drop_last=drop_last)
        for r in range(replicas)
    ]
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    if not shuffle:  # no random stream involved: the same indices
        assert [list(s) for s in ours] == [list(s) for s in theirs]
        return
    for epoch in (0, 1):
        for s in ours:
            s.set_epoch(epoch)
        shares = [list(s) for s in ours]
        got = sorted(itertools.chain(*shares))
        if drop_last:  # distinct indices, as many as the ranks can share evenly
            assert len(set(got)) == len(got) == ours[0].total_size
        elif n:  # every index at least once, padded with repeats
            assert set(got) == set(range(n)) and len(got) == ours[0].total_size
        assert shares == [list(s) for s in ours]  # one epoch, one order on every rank


def test_distributed_sampler_epochs_reshuffle_and_seeds_replay():
    s = mdata.DistributedSampler(range(100), 2, 0, seed=5)
    first = list(s)
    s.set_epoch(1)
    assert list(s) != first
    s.set_epoch(0)
    assert list(s) == first
    assert list(mdata.DistributedSampler(range(100), 2, 0, seed=5)) == first


def test_distributed_sampler_errors():
    with pytest.raises(ValueError, match=r"Invalid rank 3.*\[0, 2\]"):
        mdata.DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(RuntimeError, match="init_process_group"):
        mdata.DistributedSampler(range(4))


@pytest.mark.parametrize(
    "lengths", [[0.3, 0.3, 0.4], [0.5, 0.5], [3, 7], [1.0], [0.1, 0.2, 0.3, 0.4], [10, 0]]
)
def test_random_split_lengths_match_pytorch_and_cover_the_dataset(lengths):
    ours = mdata.random_split(range(10), lengths, generator=mg.Generator().manual_seed(1))
    theirs = tdata.random_split(range(10), lengths, generator=torch.Generator().manual_seed(1))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s) == list(range(10))
    again = mdata.random_split(range(10), lengths, generator=mg.Generator().manual_seed(1))
    assert [list(s) for s in ours] == [list(s) for s in again]


def test_random_split_refuses_wrong_lengths():
    with pytest.raises(ValueError, match=r"\[3, 3\].*10"):
        mdata.random_split(range(10), [3, 3])


def test_random_sampler_permutations_replacement_and_seeding():
    ds = range(7)
    perm = list(mdata.RandomSampler(ds, generator=mg.Generator().manual_seed(0)))
    assert sorted(perm) == list(range(7))
    long = list(mdata.RandomSampler(ds, num_samples=17, generator=mg.Generator().manual_seed(0)))
    assert len(long) == 17 and sorted(long[:7]) == sorted(long[7:14]) == list(range(7))
    drawn = list(mdata.RandomSampler(ds, replacement=True, num_samples=50))
    assert len(drawn) == 50 and set(drawn) <= set(range(7))
    mg.manual_seed(3)
    first = list(mdata.DataLoader(ds, batch_size=3, shuffle=True))
    mg.manual_seed(3)
    assert [b.tolist() for b in mdata.DataLoader(ds, batch_size=3, shuffle=True)] == [
        b.tolist() for b in first
    ]
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        mdata.RandomSampler(ds, replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        mdata.RandomSampler(ds, num_samples=0)


def test_weighted_and_subset_samplers():
    drawn = list(mdata.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200))
    assert set(drawn) <= {1, 3} and len(drawn) == 200
    distinct = list(mdata.WeightedRandomSampler([1.0, 1.0, 1.0, 1.0], 4, replacement=False))
    assert sorted(distinct) == [0, 1, 2, 3]
    assert sorted(mdata.SubsetRandomSampler([5, 9, 2])) == [2, 5, 9]
    with pytest.raises(ValueError, match="1d sequence"):
        mdata.WeightedRandomSampler([[1.0, 2.0]], 2)


@pytest.mark.parametrize(
    "n,size,drop", list(itertools.product((0, 5, 6), (1, 2, 4), (False, True)))
)
def test_batch_sampler_matches_pytorch(n, size, drop):
    ours = mdata.BatchSampler(range(n), size, drop)
    theirs = tdata.BatchSampler(range(n), size, drop)
    assert len(ours) == len(theirs) and list(ours) == list(theirs)


def test_concat_subset_and_stack_datasets_match_pytorch():
    a, b = list(range(3)), list(range(10, 15))
    ours, theirs = mdata.ConcatDataset([a, b]), tdata.ConcatDataset([a, b])
    assert len(ours) == len(theirs) == 8
    assert [ours[i] for i in range(-8, 8)] == [theirs[i] for i in range(-8, 8)]
    with pytest.raises(IndexError):
        ours[8]
    sub = mdata.Subset(b, [4, 0])
    assert [sub[0], sub[1], len(sub)] == [14, 10, 2]
    stacked = mdata.StackDataset(a, [x * 2 for x in a])
    assert [stacked[i] for i in range(3)] == [
        tdata.StackDataset(a, [x * 2 for x in a])[i] for i in range(3)
    ]
    assert mdata.StackDataset(x=a, y=a)[1] == {"x": 1, "y": 1}
    with pytest.raises(ValueError, match=r"\[3, 5\]"):
        mdata.StackDataset(a, b)
    with pytest.raises(ValueError, match=r"size mismatch.*\(3,\).*\(4,\)"):
        mdata.TensorDataset(mg.ones(3), mg.ones(4))


BAD_OPTIONS = [
    {"num_workers": -1},
    {"timeout": -1},
    {"prefetch_factor": 2},
    {"persistent_workers": True},
    {"sampler": [0, 1], "shuffle": True},
    {"batch_sampler": [[0]], "batch_size": 2},
    {"batch_sampler": [[0]], "drop_last": True},
    {"batch_size": None, "drop_last": True},
    {"multiprocessing_context": "fork"},
    {"num_workers": 1, "multiprocessing_context": "no-such-method"},
    {"batch_size": 0},
]


@pytest.mark.parametrize("options", BAD_OPTIONS, ids=lambda o: ",".join(o))
def test_bad_options_raise_what_pytorch_raises(options):
    with pytest.raises(Exception) as theirs:
        tdata.DataLoader(list(range(4)), **options)
    with pytest.raises(type(theirs.value)):
        mdata.DataLoader(list(range(4)), **options)


class _Stream(mdata.IterableDataset):
    """0 .. n-1, each worker taking every num_workers-th."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = mdata.get_worker_info()
        start, step = (info.id, info.num_workers) if info else (0, 1)
        return iter(range(start, self.n, step))


class _TorchStream(tdata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = tdata.get_worker_info()
        start, step = (info.id, info.num_workers) if info else (0, 1)
        return iter(range(start, self.n, step))


@pytest.mark.parametrize("workers", (0, 2))
@pytest.mark.parametrize("batch_size,drop_last", [(2, False), (3, True), (None, False)])
def test_iterable_dataset_batches_match_pytorch(workers, batch_size, drop_last):
    ours = mdata.DataLoader(
        _Stream(11), batch_size=batch_size, drop_last=drop_last, num_workers=workers
    )
    theirs = tdata.DataLoader(
        _TorchStream(11), batch_size=batch_size, drop_last=drop_last, num_workers=workers
    )
    assert [_plain(b) for b in ours] == [_plain(b) for b in theirs]


class _Draws(mdata.Dataset):
    """Sample i: i, the worker that fetched it, and a draw from NumPy's legacy generator."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        info = mdata.get_worker_info()
        return {"i": i, "worker": -1 if info is None else info.id, "draw": np.random.rand()}


def test_workers_keep_the_samplers_order_and_seed_each_worker_apart():
    mg.manual_seed(0)
    batches = list(mdata.DataLoader(_Draws(), batch_size=2, num_workers=2))
    assert [b["i"].tolist() for b in batches] == [[2 * k, 2 * k + 1] for k in range(6)]
    assert [b["worker"].tolist()[0] for b in batches] == [0, 1] * 3  # round-robin
    draws = [d for b in batches for d in b["draw"].tolist()]
    assert len(set(draws)) == len(draws)  # no two workers repeat each other's stream
    mg.manual_seed(0)
    again = list(mdata.DataLoader(_Draws(), batch_size=2, num_workers=2))
    assert [d for b in again for d in b["draw"].tolist()] == draws


def test_workers_shuffled_match_one_process():
    ds = mdata.TensorDataset(mg.arange(30))
    mg.manual_seed(4)
    one = [b[0].tolist() for b in mdata.DataLoader(ds, batch_size=4, shuffle=True)]
    mg.manual_seed(4)
    two = [b[0].tolist() for b in mdata.DataLoader(ds, batch_size=4, shuffle=True, num_workers=2)]
    assert one == two


class _Fails(mdata.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 3:
            raise KeyError(f"bad sample {i}")
        return i


def test_an_error_in_a_worker_is_raised_with_its_traceback():
    with pytest.raises(KeyError, match=r"(?s)worker process 1.*bad sample 3"):
        list(mdata.DataLoader(_Fails(), batch_size=2, num_workers=2))


class _Slow(mdata.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(3)
        return i


def test_timeout_raises():
    with pytest.raises(RuntimeError, match="timed out after 0.5 seconds"):
        list(mdata.DataLoader(_Slow(), num_workers=1, timeout=0.5))


class _Pid(mdata.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return os.getpid()


def test_persistent_workers_serve_every_epoch():
    loader = mdata.DataLoader(_Pid(), batch_size=2, num_workers=2, persistent_workers=True)
    first = [b.tolist() for b in loader]
    second = [b.tolist() for b in loader]
    assert first == second and len({p for b in first for p in b}) == 2
    partial = iter(loader)  # an epoch left half-way, then a new one
    next(partial)
    assert [b.tolist() for b in loader] == first
    loader._iterator.close()
    fresh = mdata.DataLoader(_Pid(), batch_size=2, num_workers=2)
    assert {p for b in fresh for p in b}.isdisjoint({p for b in first for p in b})


def test_out_of_order_gives_every_batch():
    ds = mdata.TensorDataset(mg.arange(20))
    got = [b[0].tolist() for b in mdata.DataLoader(ds, batch_size=3, num_workers=2, in_order=False)]
    assert sorted(i for b in got for i in b) == list(range(20))


def test_worker_init_fn_runs_in_each_worker():
    class Seen(mdata.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return os.environ.get("MINIGRAD_TEST_WORKER", "unset")

    def init(worker_id):
        os.environ["MINIGRAD_TEST_WORKER"] = f"w{worker_id}"

    out = list(mdata.DataLoader(Seen(), batch_size=2, num_workers=2, worker_init_fn=init))
    assert out == [["w0", "w0"], ["w1", "w1"]]
    assert mdata.get_worker_info() is None


def test_attributes_are_frozen_after_init():
    loader = mdata.DataLoader(list(range(3)))
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 2


def test_randperm_draws_from_a_given_generator_and_leaves_the_global_one():
    g = mg.Generator().manual_seed(9)
    first = mg.randperm(10, generator=g).tolist()
    assert sorted(first) == list(range(10))
    mg.manual_seed(1)
    expected = mg.rand(3).tolist()
    mg.manual_seed(1)
    assert mg.randperm(10, generator=g.manual_seed(9)).tolist() == first
    assert mg.rand(3).tolist() == expected  # the global stream did not move
