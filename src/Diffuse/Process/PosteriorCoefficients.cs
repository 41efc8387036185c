namespace Diffuse.Process;

/// <summary>
/// The coefficients of q(x_prev | x_t, x_0) between two timesteps: mean = <see cref="OfOriginal"/> x_0 +
/// <see cref="OfXt"/> x_t, variance <see cref="Variance"/> (beta-tilde; Ho et al. 2020, Eq. 7).
/// </summary>
public readonly record struct PosteriorCoefficients(double OfOriginal, double OfXt, double Variance)
{
    /// <summary>
    /// Eq. 7 of Ho et al. 2020 with abar_{t-1} replaced by the cumulative alpha at the previous visited
    /// timestep, so it also serves respaced (strided) sampling: mu = sqrt(abar_prev) beta_t / (1 - abar_t) x_0
    /// + sqrt(alpha_t) (1 - abar_prev) / (1 - abar_t) x_t, beta-tilde = (1 - abar_prev) / (1 - abar_t) beta_t.
    /// </summary>
    /// <param name="alphaCumprod">abar_t.</param>
    /// <param name="alphaCumprodPrev">abar at the previous timestep (1 before the first).</param>
    /// <param name="beta">beta_t of the step from prev to t: the schedule's beta_t, or 1 - abar_t / abar_prev when strided.</param>
    public static PosteriorCoefficients For(double alphaCumprod, double alphaCumprodPrev, double beta)
    {
        var oneMinusAbar = 1 - alphaCumprod;
        return new PosteriorCoefficients(
            OfOriginal: Math.Sqrt(alphaCumprodPrev) * beta / oneMinusAbar,
            OfXt: Math.Sqrt(1 - beta) * (1 - alphaCumprodPrev) / oneMinusAbar,
            Variance: (1 - alphaCumprodPrev) / oneMinusAbar * beta);
    }
}
