namespace Diffuse.Schedules;

/// <summary>
/// Noise levels in the sigma parametrisation (k-diffusion's; sigma_t = sqrt((1 - abar_t) / abar_t))
/// and the conversions between inference sigmas and fractional training timesteps that the
/// sigma-based and multistep schedulers share.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>rho</term><description>the Karras et al. 2022 exponent (7)</description></item>
/// </list>
/// </remarks>
public static class SigmaSchedules
{
    /// <summary>
    /// The sigma schedule of Karras et al. 2022 (arXiv:2206.00364, Eq. 5): n values from
    /// <paramref name="sigmaMax"/> down to <paramref name="sigmaMin"/>, evenly spaced in sigma^(1/rho).
    /// </summary>
    public static double[] Karras(int n, double sigmaMin, double sigmaMax, double rho = 7.0)
    {
        if (n < 1) throw new DiffuseException($"Karras sigmas need at least one step, got {n}");
        double minInv = Math.Pow(sigmaMin, 1 / rho), maxInv = Math.Pow(sigmaMax, 1 / rho);
        var sigmas = new double[n];
        for (int i = 0; i < n; i++)
        {
            double ramp = n == 1 ? 0 : (double)i / (n - 1);
            sigmas[i] = Math.Pow(maxInv + ramp * (minInv - maxInv), rho);
        }
        return sigmas;
    }

    /// <summary>n sigmas from <paramref name="sigmaMax"/> down to <paramref name="sigmaMin"/>, evenly spaced in log sigma.</summary>
    public static double[] Exponential(int n, double sigmaMin, double sigmaMax)
    {
        if (n < 1) throw new DiffuseException($"exponential sigmas need at least one step, got {n}");
        var sigmas = new double[n];
        double a = Math.Log(sigmaMax), b = Math.Log(sigmaMin);
        for (int i = 0; i < n; i++) sigmas[i] = Math.Exp(n == 1 ? a : a + (b - a) * i / (n - 1));
        return sigmas;
    }

    /// <summary>
    /// The fractional training timestep whose sigma is <paramref name="sigma"/>: linear interpolation in
    /// log sigma between the two neighbouring training timesteps (diffusers' <c>_sigma_to_t</c>),
    /// clamped to [0, T-1].
    /// </summary>
    /// <param name="trainSigmas">sigma_t for t = 0 .. T-1, ascending.</param>
    public static double SigmaToTimestep(double sigma, IReadOnlyList<double> trainSigmas)
    {
        double logSigma = Math.Log(Math.Max(sigma, 1e-10));
        int count = trainSigmas.Count;
        if (count == 1) return 0;
        // The last training index whose log sigma is at most log sigma, kept below count - 1.
        int low = 0;
        for (int i = 0; i < count; i++) if (logSigma - Math.Log(trainSigmas[i]) >= 0) low = i;
        low = Math.Min(low, count - 2);
        double logLow = Math.Log(trainSigmas[low]), logHigh = Math.Log(trainSigmas[low + 1]);
        double w = Math.Clamp((logLow - logSigma) / (logLow - logHigh), 0, 1);
        return (1 - w) * low + w * (low + 1);
    }

    /// <summary>sigma at fractional timestep t by linear interpolation of the training sigmas (NumPy's <c>interp</c>).</summary>
    public static double Interpolate(double t, IReadOnlyList<double> trainSigmas)
    {
        if (t <= 0) return trainSigmas[0];
        if (t >= trainSigmas.Count - 1) return trainSigmas[^1];
        int i = (int)Math.Floor(t);
        double f = t - i;
        return trainSigmas[i] + f * (trainSigmas[i + 1] - trainSigmas[i]);
    }

    /// <summary>
    /// The ancestral split of a step from <paramref name="sigmaFrom"/> to <paramref name="sigmaTo"/>
    /// (k-diffusion's <c>get_ancestral_step</c>, eta 1): a deterministic move down to sigmaDown plus fresh
    /// noise of standard deviation sigmaUp, with sigmaDown^2 + sigmaUp^2 = sigmaTo^2.
    /// </summary>
    public static (double SigmaDown, double SigmaUp) AncestralSplit(double sigmaFrom, double sigmaTo)
    {
        double up = Math.Sqrt(sigmaTo * sigmaTo * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo) / (sigmaFrom * sigmaFrom));
        return (Math.Sqrt(Math.Max(sigmaTo * sigmaTo - up * up, 0)), up);
    }
}
