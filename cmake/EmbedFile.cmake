# cmake -DIN=FILE -DOUT=CPP -DNAME=SYMBOL -P EmbedFile.cmake: writes CPP, which defines
# `const char* const ranks::detail::dashboard::SYMBOL`, FILE's bytes and a terminating zero.
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
string(REGEX REPLACE "(('\\\\x[0-9a-f][0-9a-f]',){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp"
  "// Made from ${IN} by cmake/EmbedFile.cmake.\n"
  "namespace ranks::detail::dashboard {\n"
  "namespace {\nconst char bytes[] = {\n${bytes}0};\n}  // namespace\n"
  "extern const char* const ${NAME};\n"
  "const char* const ${NAME} = bytes;\n"
  "}  // namespace ranks::detail::dashboard\n")
file(RENAME "${OUT}.tmp" "${OUT}")
