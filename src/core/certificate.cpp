// The optimality certificate: feasibility + complementary slackness + primal = dual cost.
// See include/sluice/certificate.hpp for the argument. Independent of every solver.
#include <string>

#include "sluice/certificate.hpp"

namespace sluice {
namespace {

using i128 = __int128;

std::string to_decimal(i128 v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  // Work with the magnitude in unsigned 128 bits (handles the most negative value).
  unsigned __int128 mag = negative ? static_cast<unsigned __int128>(-(v + 1)) + 1
                                   : static_cast<unsigned __int128>(v);
  std::string digits;
  while (mag > 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(mag % 10)));
    mag /= 10;
  }
  if (negative) digits.push_back('-');
  return {digits.rbegin(), digits.rend()};
}

std::string arc_label(const Network& n, ArcId a) {
  return "arc " + std::to_string(a) + " (" + std::to_string(n.tail(a)) + " -> " +
         std::to_string(n.head(a)) + ")";
}

// Fills feasible/message; returns the primal cost.
i128 check_flow(const Network& network, const std::vector<std::int64_t>& flow, Certificate& c) {
  const ArcId m = network.num_arcs();
  const NodeId n = network.num_nodes();
  c.feasible = false;
  if (static_cast<ArcId>(flow.size()) != m) {
    c.message = "flow has " + std::to_string(flow.size()) + " entries for " +
                std::to_string(m) + " arcs";
    return 0;
  }
  std::vector<i128> balance(static_cast<std::size_t>(n), 0);
  i128 primal = 0;
  for (ArcId a = 0; a < m; ++a) {
    const std::int64_t f = flow[static_cast<std::size_t>(a)];
    if (f < network.lower(a) || f > network.capacity(a)) {
      c.message = arc_label(network, a) + ": flow " + std::to_string(f) + " outside [" +
                  std::to_string(network.lower(a)) + ", " + std::to_string(network.capacity(a)) + "]";
      return 0;
    }
    balance[static_cast<std::size_t>(network.tail(a))] += f;
    balance[static_cast<std::size_t>(network.head(a))] -= f;
    primal += static_cast<i128>(network.cost(a)) * f;
  }
  for (NodeId v = 0; v < n; ++v) {
    if (balance[static_cast<std::size_t>(v)] != network.supply(v)) {
      c.message = "node " + std::to_string(v) + ": outflow - inflow = " +
                  to_decimal(balance[static_cast<std::size_t>(v)]) + " but supply is " +
                  std::to_string(network.supply(v));
      return 0;
    }
  }
  c.feasible = true;
  c.primal_cost = to_decimal(primal);
  return primal;
}

}  // namespace

Certificate check_feasibility(const Network& network, const std::vector<std::int64_t>& flow) {
  Certificate c;
  (void)check_flow(network, flow, c);
  return c;
}

Certificate check_optimality(const Network& network, const std::vector<std::int64_t>& flow,
                             const std::vector<std::int64_t>& potential) {
  Certificate c;
  const i128 primal = check_flow(network, flow, c);
  if (!c.feasible) return c;
  const NodeId n = network.num_nodes();
  if (static_cast<NodeId>(potential.size()) != n) {
    c.message = "potential has " + std::to_string(potential.size()) + " entries for " +
                std::to_string(n) + " nodes";
    return c;
  }
  // Complementary slackness, and the dual objective at the same time.
  c.complementary_slackness = true;
  i128 dual = 0;
  for (NodeId v = 0; v < n; ++v) {
    dual -= static_cast<i128>(network.supply(v)) * potential[static_cast<std::size_t>(v)];
  }
  bool dual_unbounded_below = false;
  for (ArcId a = 0; a < network.num_arcs(); ++a) {
    const i128 rc = static_cast<i128>(network.cost(a)) +
                    potential[static_cast<std::size_t>(network.tail(a))] -
                    potential[static_cast<std::size_t>(network.head(a))];
    const std::int64_t f = flow[static_cast<std::size_t>(a)];
    if (c.complementary_slackness && ((rc > 0 && f != network.lower(a)) ||
                                      (rc < 0 && f != network.capacity(a)))) {
      c.complementary_slackness = false;
      c.message = arc_label(network, a) + ": reduced cost " + to_decimal(rc) + " with flow " +
                  std::to_string(f) + " in [" + std::to_string(network.lower(a)) + ", " +
                  std::to_string(network.capacity(a)) + "]";
    }
    if (rc >= 0) {
      dual += rc * network.lower(a);
    } else if (network.capacity(a) == kInfiniteCapacity) {
      dual_unbounded_below = true;
    } else {
      dual += rc * network.capacity(a);
    }
  }
  c.dual_cost = dual_unbounded_below ? "-inf" : to_decimal(dual);
  c.costs_equal = !dual_unbounded_below && dual == primal;
  if (c.complementary_slackness && !c.costs_equal) {
    c.message = "primal cost " + c.primal_cost + " differs from dual cost " + c.dual_cost;
  }
  return c;
}

}  // namespace sluice
