// The C++ state of one call (or one worker round), owned by a PostgreSQL
// memory context: deleting the context (at the end of the call, or when an
// ERROR or cancel resets its parent) runs the object's destructor. So no C++
// object with a destructor lives on a stack that an ereport could unwind, and
// no file-scope global carries state from one call to the next.
#pragma once

#include <new>

#include "base/postgres_headers.hpp"
#include "base/guard.hpp"

extern "C" {
#include "utils/memutils.h"
}

namespace mailsentry::pg {

template <typename T>
class CallContext {
 public:
  // Creates the context under CurrentMemoryContext and builds a T in it
  // (ERROR naming `entry_point` when that throws). PostgreSQL side.
  static CallContext create(const char* entry_point) {
    static_assert(alignof(T) <= MAXIMUM_ALIGNOF, "palloc'd memory is MAXALIGNed");
    MemoryContext memory =
        AllocSetContextCreate(CurrentMemoryContext, "mailsentry call", ALLOCSET_SMALL_SIZES);
    auto* owner = static_cast<Owner*>(MemoryContextAllocZero(memory, sizeof(Owner)));
    void* storage = MemoryContextAlloc(memory, sizeof(T));
    owner->callback.func = destroy;
    owner->callback.arg = owner;
    MemoryContextRegisterResetCallback(memory, &owner->callback);
    // Default-initialised: plain-data members are written before they are
    // read, and zeroing kilobytes of them would cost every call.
    raise_if_failed(run_guarded(entry_point, [&] { owner->object = new (storage) T; }),
                    entry_point);
    return CallContext(memory, owner->object);
  }

  T& operator*() const { return *object_; }
  T* operator->() const { return object_; }
  MemoryContext memory() const { return memory_; }

  // Ends the call: destroys the object and frees the context.
  void finish() { MemoryContextDelete(memory_); }

 private:
  struct Owner {
    MemoryContextCallback callback;
    T* object;
  };

  CallContext(MemoryContext memory, T* object) : memory_(memory), object_(object) {}

  // Runs at most once per context, also during transaction abort: never
  // raises.
  static void destroy(void* arg) {
    auto* owner = static_cast<Owner*>(arg);
    if (owner->object == nullptr) return;
    T* object = owner->object;
    owner->object = nullptr;
    (void)run_guarded("ending a call", [object] { object->~T(); });
  }

  MemoryContext memory_;
  T* object_;
};

}  // namespace mailsentry::pg
