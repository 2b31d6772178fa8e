"""glibc malloc as the server process sees it (tests/test_malloc.py): a route allocates a block
with `malloc`, touches every page, frees it, and answers how much of it the process's resident
memory gave back to the OS."""
import ctypes

import fastcore

app = fastcore.FastCore()

libc = ctypes.CDLL(None)  # the process's C library: glibc on the platforms the test runs on
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]


def resident() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


@app.get("/released/{size}")
def released(size: int):
    block = libc.malloc(size)
    ctypes.memset(block, 1, size)
    held = resident()
    libc.free(block)
    return {"released": held - resident()}
