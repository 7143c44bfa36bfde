#include "transport/reduction.hpp"

#include "transport/transport.hpp"

namespace ranks::detail::transport {

namespace {

MPI_Datatype datatype_of(const ReduceSpec& s, MPI_Datatype* made) {
  switch (s.kind) {
    case ElemKind::kInt32:
      return MPI_INT32_T;
    case ElemKind::kInt64:
      return MPI_INT64_T;
    case ElemKind::kUInt32:
      return MPI_UINT32_T;
    case ElemKind::kUInt64:
      return MPI_UINT64_T;
    case ElemKind::kFloat:
      return MPI_FLOAT;
    case ElemKind::kDouble:
      return MPI_DOUBLE;
    case ElemKind::kBytes:
      break;
  }
  check(MPI_Type_contiguous(static_cast<int>(s.elem_size), MPI_BYTE, made), "MPI_Type_contiguous");
  check(MPI_Type_commit(made), "MPI_Type_commit");
  return *made;
}

MPI_Op op_of(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return MPI_SUM;
    case ReduceOp::kProd:
      return MPI_PROD;
    case ReduceOp::kMin:
      return MPI_MIN;
    case ReduceOp::kMax:
      return MPI_MAX;
    case ReduceOp::kUser:
      break;
  }
  return MPI_OP_NULL;
}

// MPI's user operations carry no state: the one running on this thread is named here.
thread_local const ReduceSpec* t_running = nullptr;

void user_op(void* in, void* inout, int* len, MPI_Datatype*) {
  t_running->combine(in, inout, static_cast<std::size_t>(*len));
}

}  // namespace

void reduce(MPI_Comm comm, const ReduceSpec& s) {
  MPI_Datatype made = MPI_DATATYPE_NULL;
  const MPI_Datatype type = datatype_of(s, &made);
  MPI_Op op = op_of(s.op);
  const bool own_op = op == MPI_OP_NULL;
  if (own_op) check(MPI_Op_create(&user_op, 0, &op), "MPI_Op_create");  // combined in rank order
  t_running = &s;
  const int count = static_cast<int>(s.count);
  const int rc = s.all ? MPI_Allreduce(s.in, s.out, count, type, op, comm)
                       : MPI_Reduce(s.in, s.out, count, type, op, 0, comm);
  t_running = nullptr;
  if (own_op) check_cleanup(MPI_Op_free(&op), "MPI_Op_free");
  if (made != MPI_DATATYPE_NULL) check_cleanup(MPI_Type_free(&made), "MPI_Type_free");
  check(rc, s.all ? "MPI_Allreduce" : "MPI_Reduce");
}

void allgather(MPI_Comm comm, const std::int64_t* mine, int n, std::int64_t* all) {
  check(MPI_Allgather(mine, n, MPI_INT64_T, all, n, MPI_INT64_T, comm), "MPI_Allgather");
}

}  // namespace ranks::detail::transport
