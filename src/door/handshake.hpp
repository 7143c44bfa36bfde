#pragma once

// How a connection to a started cluster's door proves the profile's key, both ways, without the
// key crossing the wire: a challenge and response with HMAC-SHA256 (OpenSSL's libcrypto), a
// fresh random nonce from each side, proofs compared in constant time.
//
//   program -> hub   hello      "RANKSD" "02" | client nonce (32)                       40 bytes
//   hub -> program   challenge  "RANKSD" "02" | hub nonce (32)
//                               | HMAC(key, "hub" | client nonce | hub nonce)           72 bytes
//   program -> hub   proof      HMAC(key, "client" | hub nonce | client nonce)          32 bytes
//
// The program checks the hub's proof before it sends its own, or anything else: an impostor
// listening at the door's port learns neither the key nor what the program would have asked.
// The hub lets frames through once the program's proof holds. Distinct labels per direction
// keep one side's proof from being reflected as the other's; each side's fresh nonce keeps a
// recorded exchange from being replayed. Only the start is authenticated: the frames after it
// travel in clear, unauthenticated (README.md, "What the key protects").

#include <array>
#include <chrono>
#include <string>

#include "ranks/error.hpp"

namespace ranks::detail::cluster {

class Inbox;

inline constexpr char kDoorMagic[6] = {'R', 'A', 'N', 'K', 'S', 'D'};
inline constexpr char kDoorVersion[2] = {'0', '2'};
inline constexpr std::size_t kNonceBytes = 32;
inline constexpr std::size_t kProofBytes = 32;  // HMAC-SHA256
inline constexpr std::size_t kHelloBytes = sizeof kDoorMagic + sizeof kDoorVersion + kNonceBytes;
inline constexpr std::size_t kChallengeBytes = kHelloBytes + kProofBytes;

/// Something answered at the door but did not prove the profile's key (or spoke no door
/// protocol this program knows): a program must not go on with it.
class ImpostorAtDoor : public Error {
 public:
  using Error::Error;
};

/// The program's side (also an engine's, the ranks command's), blocking at most timeout: sends
/// the hello, checks the hub's proof, sends its own. Bytes the hub sent after its challenge stay
/// in inbox. Throws ImpostorAtDoor when the hub does not prove the key, ranks::Error when the
/// connection fails or times out.
void prove_key_to_hub(int fd, Inbox& inbox, const std::string& key_hex, const std::string& door,
                      std::chrono::milliseconds timeout);

/// The hub's side of one connection, driven by what arrives (it never waits for the peer).
class HubHandshake {
 public:
  enum class Step { kHello, kProof, kDone };
  /// Takes what the step needs from inbox, answers the hello. Returns true once the peer has
  /// proved the key. Throws ranks::Error saying why the peer is refused.
  bool advance(int fd, Inbox& inbox, const std::string& key_hex);
  [[nodiscard]] bool done() const { return step_ == Step::kDone; }
  [[nodiscard]] Step step() const { return step_; }

 private:
  Step step_ = Step::kHello;
  std::array<unsigned char, kNonceBytes> client_nonce_{};
  std::array<unsigned char, kNonceBytes> hub_nonce_{};
};

}  // namespace ranks::detail::cluster
