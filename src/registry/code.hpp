#pragma once

// A program's code on an engine of a started cluster: the shared object that
// ranks_add_executable built, loaded by path and checked by build id. Loaded once per build and
// never unloaded: values that programs left in the namespace may be of its types.

#include <string>

namespace ranks::detail {

/// Loads the code at `path` whose build id is `build_id` (hexadecimal) into this process, unless
/// that build is loaded already. Returns "" once it is, else why it cannot be (a path this host
/// cannot see, another build at that path, a library that does not load) and what to do. A
/// rebuilt program whose path an older build was loaded from is loaded from a copy in
/// `copies_dir`.
std::string load_code(const std::string& path, const std::string& build_id,
                      const std::string& copies_dir);

/// The GNU build id (hexadecimal) of the ELF file at path; "" if it has none or is no ELF file.
std::string file_build_id(const std::string& path);

}  // namespace ranks::detail
