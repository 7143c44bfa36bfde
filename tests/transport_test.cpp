// What transport makes of a failed MPI call. Open MPI refuses MPI_Error_string before MPI_Init,
// so the suite initialises MPI as a singleton (no mpirun needed).
#include "transport/transport.hpp"

#include <gtest/gtest.h>

#include <ranks/error.hpp>
#include <string>

#include "throws.hpp"

TEST(Transport, a_failed_mpi_call_keeps_routine_code_and_class) {
  EXPECT_NO_THROW(ranks::detail::transport::check(MPI_SUCCESS, "MPI_Send"));
  auto e = ranks_test::thrown<ranks::MpiError>(
      [] { ranks::detail::transport::check(MPI_ERR_COUNT, "MPI_Send"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->routine(), "MPI_Send");
  EXPECT_EQ(e->code(), MPI_ERR_COUNT);
  EXPECT_EQ(e->error_class(), MPI_ERR_COUNT);
  const std::string what = e->what();
  EXPECT_EQ(what.rfind("ranks: MPI_Send failed: ", 0), 0u) << what;
  EXPECT_NE(what.find("MPI error class " + std::to_string(MPI_ERR_COUNT)), std::string::npos)
      << what;
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  MPI_Init(&argc, &argv);
  const int failed = RUN_ALL_TESTS();
  MPI_Finalize();
  return failed;
}
