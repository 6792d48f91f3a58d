// See breadcrumb.h.
#include "breadcrumb.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>

// syscalls.h includes breadcrumb.h (not the other way round): no cycle. Its wrappers Note into
// the private page here, as Attach runs before the shared page is set.
#include "syscalls.h"

namespace breadcrumb {
namespace {
Page gPrivate{kMagic, {-1}, {0}, {0}};
}  // namespace

Page* gPage = &gPrivate;

int Attach(int fd) {
  struct stat st;
  if (int r = sys::Fstat(fd, &st); r < 0) return r;
  if (!S_ISREG(st.st_mode) || st.st_size < static_cast<off_t>(sizeof(Page))) return -EINVAL;
  void* p = nullptr;
  if (int r = sys::Mmap(sizeof(Page), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, &p); r < 0) return r;
  // Never true (Mmap sets p on success); without it GCC cannot see that and warns of a store
  // through a null pointer (-Wstringop-overflow).
  if (p == nullptr) return -EFAULT;
  Page* page = static_cast<Page*>(p);
  page->lastSyscall.store(-1, std::memory_order_relaxed);
  page->calls.store(0, std::memory_order_relaxed);
  page->threadKilled.store(0, std::memory_order_relaxed);
  page->magic = kMagic;
  gPage = page;  // set once, before any probe runs (from the JS thread, at start-up)
  return 0;
}

}  // namespace breadcrumb
