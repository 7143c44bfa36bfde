#pragma once

// What waits at one end of a Pipe, in the order it is to be received, wherever it is kept: by the
// controller, or by the engine whose task receives at that end (it listens there, and items sent
// by tasks on engines of the same communicator come to it straight, not through the controller).
//
// Items come two ways. Through the controller they come in one order (the stream). Straight from
// a sending task they come numbered in that task's order (its session; they may come by two
// ways, straight and passed on by an engine, and are received by their numbers), and the stream
// says where a
// session joins it (nothing of the session is received before what came through the controller
// before it began) and where it leaves (after its last item, nothing later in the stream is
// received before every item of the session). The end's closing or its sender's loss is the
// stream's last word. The inbox travels whole between the controller and a listening engine.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "ranks/detail/bytes.hpp"
#include "ranks/detail/codec.hpp"
#include "ranks/detail/object_wire.hpp"
#include "ranks/detail/objects.hpp"
#include "ranks/detail/wire.hpp"

namespace ranks::detail {

/// One word of what comes to an end, as it is applied to its inbox and as it travels.
struct PipeWord {
  enum class Mark : std::uint32_t {
    kItem = 0,  // an item, through the controller
    kJoin,      // session `session` begins here
    kLeave,     // session `session` ends here, after `count` items
    kDirect,    // item number `count` (from 0) of session `session`, straight from its sender
    kEnd,       // no more comes: `answer` is what every later receive gets (closed, or lost)
  };
  Mark mark = Mark::kItem;
  std::uint64_t session = 0;
  std::uint64_t count = 0;
  Bytes item;
  ObjectAnswer answer;
};

inline void write_pipe_word(Writer& w, const PipeWord& p) {
  const auto mark = static_cast<std::uint32_t>(p.mark);
  w.raw(&mark, sizeof mark);
  w.raw(&p.session, sizeof p.session);
  w.raw(&p.count, sizeof p.count);
  encode(w, p.item);
  if (p.mark == PipeWord::Mark::kEnd) write_object_answer(w, p.answer);
}

inline PipeWord read_pipe_word(Reader& r) {
  PipeWord p;
  std::uint32_t mark = 0;
  r.raw(&mark, sizeof mark);
  p.mark = static_cast<PipeWord::Mark>(mark);
  r.raw(&p.session, sizeof p.session);
  r.raw(&p.count, sizeof p.count);
  decode(r, p.item);
  if (p.mark == PipeWord::Mark::kEnd) p.answer = read_object_answer(r);
  return p;
}

class PipeInbox {
 public:
  /// Applies what came: to the stream, or (kDirect) to its session.
  void apply(PipeWord&& w) {
    if (w.mark == PipeWord::Mark::kDirect) {
      sessions_[w.session].items.emplace(w.count, std::move(w.item));
      return;
    }
    stream_.push_back(std::move(w));
  }

  /// The next item to be received, if one may be received now.
  std::optional<Bytes> take() {
    while (!stream_.empty()) {
      PipeWord& front = stream_.front();
      if (front.mark == PipeWord::Mark::kItem) {
        Bytes item = std::move(front.item);
        stream_.pop_front();
        return item;
      }
      if (front.mark == PipeWord::Mark::kJoin) {
        sessions_[front.session].joined = true;
        stream_.pop_front();
        continue;
      }
      if (front.mark == PipeWord::Mark::kLeave) {
        Session& s = sessions_[front.session];
        if (s.taken >= front.count) {
          sessions_.erase(front.session);
          stream_.pop_front();
          continue;
        }
        if (s.next_came()) return take_from(s);
        break;  // its last items are on their way: nothing after it may be received before them
      }
      break;  // kEnd: what sessions still hold comes first
    }
    for (auto& [id, s] : sessions_)
      if (s.joined && s.next_came()) return take_from(s);
    return std::nullopt;
  }

  /// Once nothing can be taken: the answer every receive gets from now on (closed, lost), if no
  /// more can come.
  [[nodiscard]] const ObjectAnswer* ended() const {
    if (stream_.empty() || stream_.front().mark != PipeWord::Mark::kEnd) return nullptr;
    for (const auto& [id, s] : sessions_)
      if (s.joined && s.next_came()) return nullptr;
    return &stream_.front().answer;
  }

  /// Whether item `count` of session `session`, straight from its sender, would be the next
  /// received if it came now (where nothing may be received before it comes).
  [[nodiscard]] bool takes_next(std::uint64_t session, std::uint64_t count) {
    if (ready()) return false;
    const auto s = sessions_.find(session);
    if (s == sessions_.end() || !s->second.joined || s->second.taken != count) return false;
    // Nothing is ready: the stream's front holds back all but the session it waits for.
    return stream_.empty() || stream_.front().mark != PipeWord::Mark::kLeave ||
           stream_.front().session == session;
  }

  /// Whether a receive would return at once (an item, or the end).
  [[nodiscard]] bool ready() {
    if (ended() != nullptr) return true;
    std::optional<Bytes> item = take();
    if (!item) return false;
    stream_.push_front(PipeWord{PipeWord::Mark::kItem, 0, 0, std::move(*item), {}});
    return true;
  }

  /// The whole inbox, to travel.
  void write(Writer& w) const {
    encode_size(w, stream_.size());
    for (const PipeWord& p : stream_) write_pipe_word(w, p);
    encode_size(w, sessions_.size());
    for (const auto& [id, s] : sessions_) {
      w.raw(&id, sizeof id);
      w.raw(&s.taken, sizeof s.taken);
      const std::uint32_t joined = s.joined ? 1 : 0;
      w.raw(&joined, sizeof joined);
      encode_size(w, s.items.size());
      for (const auto& [number, item] : s.items) {
        w.raw(&number, sizeof number);
        encode(w, item);
      }
    }
  }
  static PipeInbox read(Reader& r) {
    PipeInbox in;
    for (std::size_t n = decode_size(r); n > 0; --n) in.stream_.push_back(read_pipe_word(r));
    for (std::size_t n = decode_size(r); n > 0; --n) {
      std::uint64_t id = 0;
      r.raw(&id, sizeof id);
      Session& s = in.sessions_[id];
      r.raw(&s.taken, sizeof s.taken);
      std::uint32_t joined = 0;
      r.raw(&joined, sizeof joined);
      s.joined = joined != 0;
      for (std::size_t k = decode_size(r); k > 0; --k) {
        std::uint64_t number = 0;
        r.raw(&number, sizeof number);
        decode(r, s.items[number]);
      }
    }
    return in;
  }

 private:
  struct Session {
    std::map<std::uint64_t, Bytes> items;  // came, not received yet, by their numbers
    std::uint64_t taken = 0;               // received so far, wherever the inbox was kept then
    bool joined = false;
    [[nodiscard]] bool next_came() const { return !items.empty() && items.begin()->first == taken; }
  };
  static Bytes take_from(Session& s) {
    const auto first = s.items.begin();
    Bytes item = std::move(first->second);
    s.items.erase(first);
    ++s.taken;
    return item;
  }

  std::deque<PipeWord> stream_;
  std::map<std::uint64_t, Session> sessions_;
};

/// A session and a count (kUnbind: how many items it sent; kStray: the item's number in it), as a
/// request about a pipe's straight path carries them in its bytes.
inline Bytes session_numbers(std::uint64_t session, std::uint64_t count = 0) {
  Bytes b(2 * sizeof session);
  std::memcpy(b.data(), &session, sizeof session);
  std::memcpy(b.data() + sizeof session, &count, sizeof count);
  return b;
}
/// The session (i 0) or the count (i 1) that session_numbers wrote; 0 where b is too short.
inline std::uint64_t session_number_at(const Bytes& b, std::size_t i) {
  std::uint64_t n = 0;
  if (b.size() >= (i + 1) * sizeof n) std::memcpy(&n, b.data() + i * sizeof n, sizeof n);
  return n;
}

/// How engine `from` reaches engine `to` straight: at `rank` of a communicator both hold (-1:
/// it cannot), and, where they share a host, by a ring in shared memory rather than by MPI.
struct StraightPath {
  int rank = -1;
  bool same_host = false;
};
/// The word of an offer (kPipeOffer) to send in session `session` along `path`.
inline PipeWord offer_word(std::uint64_t session, StraightPath path) {
  PipeWord w;
  w.mark = PipeWord::Mark::kJoin;
  w.session = session;
  w.count = static_cast<std::uint64_t>(path.rank);
  w.item = Bytes(1, std::byte{path.same_host ? std::uint8_t{1} : std::uint8_t{0}});
  return w;
}
/// The path that offer_word wrote.
inline StraightPath offered_path(const PipeWord& w) {
  return {static_cast<int>(w.count), !w.item.empty() && w.item[0] != std::byte{0}};
}

/// A word for one end of a pipe, as a message of kind kind (kPipeWord, kPipeBroken, kPipeItem).
/// `lent`: the blocks of a straight item (kDirect) that its bytes do not hold
/// (ObjectRequest::lending), sent from where they lie after the item's own.
inline Message pipe_message(Kind kind, const ObjectId& object, std::int64_t end, PipeWord&& word,
                            std::vector<Attachment> lent = {}) {
  Message m;
  m.bytes.reserve(sizeof(TaskHeader) + sizeof object + 128 +
                  std::min(word.item.size(), kAttachMin));
  Writer w(m.bytes, &m.attachments);
  TaskHeader h;
  h.kind = kind;
  write_header(w, h);
  w.raw(&object, sizeof object);
  w.raw(&end, sizeof end);
  const auto write_lent = [&] {
    encode_size(w, lent.size());
    for (const Attachment& a : lent) {
      const std::uint64_t at = a.at;
      w.raw(&at, sizeof at);
    }
    m.attachments.insert(m.attachments.end(), lent.begin(), lent.end());
  };
  if (word.item.size() < kAttachMin) {  // copied into the message
    write_pipe_word(w, word);
    write_lent();
    return m;
  }
  auto kept = std::make_shared<PipeWord>(std::move(word));  // sent from where it lies
  write_pipe_word(w, *kept);
  write_lent();
  m.keep = std::move(kept);
  return m;
}

/// What pipe_message wrote after its header.
struct PipeMessage {
  ObjectId object;
  std::int64_t end = 0;
  PipeWord word;
  /// Where the item's lent blocks belong in it: they follow, still in MPI, as attachments.
  std::vector<Attachment> lent;
};
inline PipeMessage read_pipe_message(const Bytes& msg, AttachmentSource* attachments) {
  Reader r(msg.data() + sizeof(TaskHeader), msg.size() - sizeof(TaskHeader), attachments);
  PipeMessage p;
  r.raw(&p.object, sizeof p.object);
  r.raw(&p.end, sizeof p.end);
  p.word = read_pipe_word(r);
  const std::size_t lent = decode_size(r);
  if (lent > r.remaining() / sizeof(std::uint64_t))
    throw Error("a pipe's message ended early while decoding (corrupt message)");
  p.lent.resize(lent);
  for (Attachment& a : p.lent) {
    std::uint64_t at = 0;
    r.raw(&at, sizeof at);
    a.at = static_cast<std::size_t>(at);
  }
  return p;
}

}  // namespace ranks::detail
