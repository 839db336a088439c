//! The heap limit measured in real bytes: this test binary installs `eddy::CountingAllocator`,
//! so strings (which the cycle collector's estimate does not see) count too.

use eddy::{Limit, Vm};

#[global_allocator]
static ALLOC: eddy::CountingAllocator<std::alloc::System> =
    eddy::CountingAllocator(std::alloc::System);

#[test]
fn strings_count_toward_the_heap_limit() {
    let mut vm = Vm::builder().heap_limit(16 << 20).build();
    let err = vm
        .run("xs = []\nwhile True:\n    xs.append('x' * 10000 + str(len(xs)))\n")
        .unwrap_err();
    assert_eq!(err.limit(), Some(Limit::Heap), "{}", err.last_line());
    assert_eq!(err.exception_type(), Some("HeapLimitExceeded"));
    // The memory is released with the script's globals replaced, and the VM goes on.
    vm.run("xs = None\ny = sum(range(1000))").unwrap();
    assert_eq!(vm.get_global::<i64>("y").unwrap(), 499500);
}
