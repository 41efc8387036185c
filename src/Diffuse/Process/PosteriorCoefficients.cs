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
    /// + sqrt(alpha_t) (1 - abar_prev) / (1 - abar_t) x_t, beta-tilde = (1 - abar_prev) / (1 - abar_t) beta_t,
    /// with alpha_t = abar_t / abar_prev and beta_t = 1 - alpha_t, the step's own beta (as diffusers' DDPM step).
    /// Taking beta from the abar ratio rather than the beta table keeps the two consistent where the
    /// float32 tables are not (1 - abar_0 is not beta_0 to float32 precision), so that at t = 0 the mean is x_0.
    /// </summary>
    /// <param name="alphaCumprod">abar_t.</param>
    /// <param name="alphaCumprodPrev">abar at the previous timestep (1 before the first).</param>
    public static PosteriorCoefficients For(double alphaCumprod, double alphaCumprodPrev)
    {
        var beta = 1 - alphaCumprod / alphaCumprodPrev;
        var oneMinusAbar = 1 - alphaCumprod;
        return new PosteriorCoefficients(
            OfOriginal: Math.Sqrt(alphaCumprodPrev) * beta / oneMinusAbar,
            OfXt: Math.Sqrt(1 - beta) * (1 - alphaCumprodPrev) / oneMinusAbar,
            Variance: (1 - alphaCumprodPrev) / oneMinusAbar * beta);
    }
}
