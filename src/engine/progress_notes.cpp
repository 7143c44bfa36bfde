#include "engine/progress_notes.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "engine/engine.hpp"

namespace ranks::detail {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kEvery = std::chrono::milliseconds(200);  // at most one note of a part this often
constexpr std::int64_t kLookNs = 50'000'000;  // the clock is read about this often: 50 ms
constexpr std::int64_t kMaxCountdown = std::int64_t{1} << 20;

// The part running now (an engine runs one at a time).
SendNote g_send = nullptr;
Clock::time_point g_noted;   // its start, or its last note
Clock::time_point g_looked;  // the last look at the clock
std::size_t g_looked_done = 0;

void tick(InvokeContext& ctx, std::size_t done) {
  const auto now = Clock::now();
  const auto items = static_cast<std::int64_t>(std::max<std::size_t>(1, done - g_looked_done));
  const std::int64_t per_item_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now - g_looked).count() / items;
  g_looked = now;
  g_looked_done = done;
  if (now - g_noted >= kEvery && done < ctx.header.count) {
    g_noted = now;
    ReplyHeader rh;
    rh.kind = Kind::kProgress;
    rh.id = ctx.header.id;
    rh.outcome.engine = current_engine_id();
    Message m;
    Writer w(m.bytes);
    write_header(w, rh);
    encode(w, static_cast<std::uint64_t>(done));
    g_send(std::move(m));
  }
  const std::int64_t next = per_item_ns > 0 ? kLookNs / per_item_ns : kMaxCountdown;
  ctx.countdown = std::clamp<std::int64_t>(next, 1, kMaxCountdown);
}

}  // namespace

void arm_progress_notes(InvokeContext& ctx, SendNote send) {
  if (ctx.header.kind != Kind::kTask || ctx.header.count < 2 || send == nullptr) return;
  g_send = send;
  g_noted = g_looked = Clock::now();
  g_looked_done = 0;
  ctx.tick = &tick;
  ctx.countdown = 1;  // the first item's time sets how often the clock is read
}

}  // namespace ranks::detail
