#pragma once

// The name of the function at an address, for crash reports: from the dynamic symbol table
// (dladdr), else from the full symbol table of the file it was loaded from, where functions of
// a program's own (static, in an unnamed namespace, or not exported) are listed too.

namespace ranks::detail {

/// The name of the function that contains fn, demangled ("(anonymous namespace)::f(int)"), or
/// nullptr if no symbol table names it. The string lives as long as the process. Looked up once
/// per function; the last 16 asked about answer without a lock. Reads files and allocates the
/// first time: not for a signal handler.
const char* function_symbol(const void* fn);

}  // namespace ranks::detail
