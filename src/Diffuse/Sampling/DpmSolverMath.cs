using Diffuse.Configuration;
using Diffuse.Process;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// What the multistep and the singlestep DPM-Solver share: reading the model output as the solver's quantity
/// and the exponential-integrator coefficients of one update.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>alphaT, sigmaT, alphaS, sigmaS</term><description>alpha and sigma of the target t and of the start s of the update</description></item>
/// <item><term>h</term><description>lambda_t - lambda_s, the step in half log-SNR (Lu et al. 2022, arXiv:2206.00927, Sec. 3.1)</description></item>
/// <item><term>D0, D1, D2</term><description>the output at s, its first and second divided differences times h and h^2</description></item>
/// </list>
/// </remarks>
internal static class DpmSolverMath
{
    /// <summary>Whether <paramref name="algorithm"/> integrates the data prediction x_0 (the ++ variants) rather than eps.</summary>
    public static bool DataPrediction(AlgorithmType algorithm) => algorithm is AlgorithmType.DpmsolverPlusPlus or AlgorithmType.SdeDpmsolverPlusPlus;

    /// <summary>
    /// The prediction part of a model output: with <c>variance_type</c> learned or learned_range the model outputs
    /// 2C channels for a sample of C, the prediction then the variance, which the solver does not use, so the
    /// first C are taken (diffusers' <c>convert_model_output</c> slices <c>model_output[:, :3]</c>, for epsilon
    /// prediction only; its other types then fail on the shapes, and a C other than 3 is cut wrongly). The output
    /// whole otherwise. A learned type with any other channel count is an error.
    /// </summary>
    public static torch.Tensor PredictionPart(SchedulerConfig c, torch.Tensor output, torch.Tensor x, string scheduler)
    {
        if (c.VarianceType is not (VarianceType.Learned or VarianceType.LearnedRange)) return output;
        var channels = x.dim() >= 2 ? x.shape[1] : 0;
        if (channels == 0 || output.dim() != x.dim() || output.shape[1] != 2 * channels)
            throw new DiffuseException($"{scheduler}: variance_type {IO.Json.Name(c.VarianceType)} needs a model output of 2 x {channels} channels (prediction then variance), got shape [{string.Join(", ", output.shape)}]");
        return LearnedVariance.Prediction(output, channels);
    }

    /// <summary>
    /// The model output as the solver's quantity (x_0 or eps) and as x_0, for the sample <paramref name="x"/> at
    /// abar, with dynamic thresholding of x_0 (diffusers' <c>convert_model_output</c>).
    /// </summary>
    public static (torch.Tensor Solver, torch.Tensor Original) Convert(SchedulerConfig c, torch.Tensor output, torch.Tensor x, double abar)
    {
        var x0 = GaussianDiffusion.PredictedOriginal(c.PredictionType, output, x, abar);
        if (c.Thresholding) x0 = StepMath.DynamicThreshold(x0, c.DynamicThresholdingRatio, c.SampleMaxValue);
        if (DataPrediction(c.AlgorithmType)) return (x0, x0.alias());
        return c.Thresholding
            ? (GaussianDiffusion.PredictedEpsilon(PredictionType.Sample, x0, x, abar), x0)
            : (GaussianDiffusion.PredictedEpsilon(c.PredictionType, output, x, abar), x0);
    }

    /// <summary>
    /// The coefficients of x_t = A x_s + C0 D0 + C1 D1 + C2 D2 + CNoise z: DPM-Solver++ (Lu et al. 2022,
    /// arXiv:2211.01095, Eq. 9 and Algorithms 1-2), DPM-Solver's (arXiv:2206.00927, Eq. 3.7) and their SDE forms
    /// (arXiv:2211.01095, App. C). C1 is the heun / third-order weight of D1 (midpoint uses C0 / 2), C2 that of D2.
    /// For sde-dpmsolver++, C2 = alpha_t ((1 - e^-2h - 2h) / (2h)^2 + 1/2), the exact integral of the second-order
    /// term (k-diffusion's <c>sample_dpmpp_3m_sde</c>); diffusers writes <c>- 0.5</c> there.
    /// </summary>
    public static (double A, double C0, double C1, double C2, double CNoise) Coefficients(AlgorithmType algorithm, double alphaT, double sigmaT, double alphaS, double sigmaS, double h)
    {
        double phi = Math.Exp(-h) - 1, psi = 1 - Math.Exp(-2 * h), phiEps = Math.Exp(h) - 1;
        return algorithm switch
        {
            AlgorithmType.DpmsolverPlusPlus => (sigmaT / sigmaS, -alphaT * phi, alphaT * (phi / h + 1), -alphaT * ((phi + h) / (h * h) - 0.5), 0),
            AlgorithmType.SdeDpmsolverPlusPlus => (sigmaT / sigmaS * Math.Exp(-h), alphaT * psi, alphaT * (psi / (-2 * h) + 1),
                alphaT * ((psi - 2 * h) / (4 * h * h) + 0.5), sigmaT * Math.Sqrt(psi)),
            AlgorithmType.Dpmsolver => (alphaT / alphaS, -sigmaT * phiEps, -sigmaT * (phiEps / h - 1), -sigmaT * ((phiEps - h) / (h * h) - 0.5), 0),
            _ => (alphaT / alphaS, -2 * sigmaT * phiEps, -2 * sigmaT * (phiEps / h - 1), double.NaN, sigmaT * Math.Sqrt(Math.Exp(2 * h) - 1)),
        };
    }
}
