// See breadcrumb.h.
#include "breadcrumb.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace breadcrumb {
namespace {
Page gPrivate{kMagic, {-1}, {0}, {0}};
}  // namespace

Page* gPage = &gPrivate;

int Attach(int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0) return -errno;
  if (!S_ISREG(st.st_mode) || st.st_size < static_cast<off_t>(sizeof(Page))) return -EINVAL;
  void* p = mmap(nullptr, sizeof(Page), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return -errno;
  Page* page = static_cast<Page*>(p);
  page->lastSyscall.store(-1, std::memory_order_relaxed);
  page->calls.store(0, std::memory_order_relaxed);
  page->threadKilled.store(0, std::memory_order_relaxed);
  page->magic = kMagic;
  gPage = page;  // set once, before any probe runs (from the JS thread, at start-up)
  return 0;
}

}  // namespace breadcrumb
