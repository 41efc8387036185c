namespace Diffuse.Likelihood;

/// <summary>How the divergence (the trace of the drift's Jacobian) is taken in the probability-flow likelihood.</summary>
public enum TraceEstimator
{
    /// <summary><c>exact</c>: D vector-Jacobian products, one per dimension; for low-dimensional data.</summary>
    Exact,
    /// <summary>
    /// <c>rademacher</c>: Hutchinson's estimator E[v^T J v] with v uniform on {-1, 1}^D (Hutchinson 1989; Grathwohl et
    /// al. 2019, FFJORD). Its variance, 2 sum_{i != j} J_ij^2, ignores the diagonal, so it is exact for a scaled identity.
    /// </summary>
    Rademacher,
    /// <summary><c>gaussian</c>: Hutchinson's estimator with v ~ N(0, I); variance 2 ||J||_F^2.</summary>
    Gaussian,
}
