#include "door/handshake.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <poll.h>

#include <cstring>

#include "door/door.hpp"
#include "transport/socket.hpp"

namespace ranks::detail::cluster {

namespace {

using Clock = std::chrono::steady_clock;
using Bytes32 = std::array<unsigned char, 32>;

int from_hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The key's 32 bytes, from the profile's 64 hexadecimal digits.
Bytes32 key_bytes(const std::string& key_hex) {
  Bytes32 out{};
  bool ok = key_hex.size() == 2 * out.size();
  for (std::size_t i = 0; ok && i < out.size(); ++i) {
    const int hi = from_hex(key_hex[2 * i]), lo = from_hex(key_hex[2 * i + 1]);
    ok = hi >= 0 && lo >= 0;
    out[i] = static_cast<unsigned char>((hi << 4) | lo);
  }
  if (!ok)
    throw Error(
        "the profile's key is not 64 hexadecimal digits; the profile is damaged: stop the "
        "cluster and start it again");
  return out;
}

Bytes32 nonce() {
  Bytes32 n{};
  if (RAND_bytes(n.data(), static_cast<int>(n.size())) != 1)
    throw Error("no random bytes for the door's handshake (OpenSSL's RAND_bytes failed)");
  return n;
}

// HMAC-SHA256(key, label | first | second).
Bytes32 proof(const std::string& key_hex, const char* label, const Bytes32& first,
              const Bytes32& second) {
  const Bytes32 key = key_bytes(key_hex);
  std::string text(label);
  text.append(reinterpret_cast<const char*>(first.data()), first.size());
  text.append(reinterpret_cast<const char*>(second.data()), second.size());
  Bytes32 mac{};
  unsigned int n = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac.data(), &n) ||
      n != mac.size())
    throw Error("cannot compute the door's HMAC-SHA256 (OpenSSL failed)");
  return mac;
}

bool same(const Bytes32& want, const char* got) {
  return CRYPTO_memcmp(want.data(), got, want.size()) == 0;
}

Bytes32 bytes_at(const std::string& s, std::size_t at) {
  Bytes32 out{};
  std::memcpy(out.data(), s.data() + at, out.size());
  return out;
}

std::string preamble() {
  return std::string(kDoorMagic, sizeof kDoorMagic) +
         std::string(kDoorVersion, sizeof kDoorVersion);
}

// What is wrong with a hello's or a challenge's first eight bytes, or "".
std::string bad_preamble(const std::string& got) {
  if (std::memcmp(got.data(), kDoorMagic, sizeof kDoorMagic) != 0) return "no magic word";
  if (std::memcmp(got.data() + sizeof kDoorMagic, kDoorVersion, sizeof kDoorVersion) != 0)
    return "version " + got.substr(sizeof kDoorMagic, sizeof kDoorVersion) + " of the door, not " +
           std::string(kDoorVersion, sizeof kDoorVersion);
  return "";
}

}  // namespace

void prove_key_to_hub(int fd, Inbox& inbox, const std::string& key_hex, const std::string& door,
                      std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const Bytes32 mine = nonce();
  std::string hello = preamble();
  hello.append(reinterpret_cast<const char*>(mine.data()), mine.size());
  send_all(fd, hello.data(), hello.size(), timeout);

  std::optional<std::string> challenge;
  while (!(challenge = inbox.take_bytes(kChallengeBytes))) {
    pollfd p{fd, POLLIN, 0};
    const int left = remaining_ms(deadline);
    if (::poll(&p, 1, left) > 0) {
      if (!inbox.fill(fd) && !(challenge = inbox.take_bytes(kChallengeBytes)))
        throw Error("the door " + door +
                    " closed the connection before proving the key (a hub of another ranks "
                    "version, or not a cluster's door)");
      continue;
    }
    if (left == 0)
      throw Error("the door " + door + " did not answer the handshake within " +
                  std::to_string(timeout.count()) + " ms");
  }
  if (const std::string bad = bad_preamble(*challenge); !bad.empty())
    throw ImpostorAtDoor("what answers at the door " + door + " speaks " + bad +
                         " (not this ranks' cluster door); nothing was sent to it");
  const Bytes32 theirs = bytes_at(*challenge, sizeof kDoorMagic + sizeof kDoorVersion);
  if (!same(proof(key_hex, "hub", mine, theirs), challenge->data() + kHelloBytes))
    throw ImpostorAtDoor("what answers at the door " + door +
                         " did not prove that it knows the cluster's key: another program "
                         "listens at the door's port (an impostor?), or the profile and the "
                         "running cluster disagree (stop the cluster and start it again); nothing "
                         "was sent to it");
  const Bytes32 mac = proof(key_hex, "client", theirs, mine);
  send_all(fd, mac.data(), mac.size(), timeout);
}

bool HubHandshake::advance(int fd, Inbox& inbox, const std::string& key_hex) {
  if (step_ == Step::kHello) {
    const auto hello = inbox.take_bytes(kHelloBytes);
    if (!hello) return false;
    if (const std::string bad = bad_preamble(*hello); !bad.empty())
      throw Error(bad == "no magic word" ? "no magic word (not a ranks program?)"
                                         : "it speaks " + bad + " (a program of another ranks?)");
    client_nonce_ = bytes_at(*hello, sizeof kDoorMagic + sizeof kDoorVersion);
    hub_nonce_ = nonce();
    const Bytes32 mac = proof(key_hex, "hub", client_nonce_, hub_nonce_);
    std::string challenge = preamble();
    challenge.append(reinterpret_cast<const char*>(hub_nonce_.data()), hub_nonce_.size());
    challenge.append(reinterpret_cast<const char*>(mac.data()), mac.size());
    // 72 bytes into a fresh connection's empty send buffer: this does not wait.
    send_all(fd, challenge.data(), challenge.size(), std::chrono::milliseconds(100));
    step_ = Step::kProof;
  }
  if (step_ == Step::kProof) {
    const auto got = inbox.take_bytes(kProofBytes);
    if (!got) return false;
    if (!same(proof(key_hex, "client", hub_nonce_, client_nonce_), got->data()))
      throw Error(
          "a wrong key (its proof does not match this connection's nonces: a wrong key, "
          "or a replay of another connection)");
    step_ = Step::kDone;
  }
  return true;
}

}  // namespace ranks::detail::cluster
