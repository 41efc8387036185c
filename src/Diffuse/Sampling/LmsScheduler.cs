using Diffuse.Configuration;
using Diffuse.Process;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// Linear multistep in sigma (k-diffusion's <c>sample_lms</c>), with diffusers' <c>LMSDiscreteScheduler</c>
/// semantics at its default order 4: x_{i+1} = x_i + sum_k c_k d_{i-k}, the c_k being the integrals over
/// [sigma_i, sigma_{i+1}] of the Lagrange basis through the last (up to) four sigmas.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>d</term><description>(x - D(x; sigma)) / sigma, Eq. 3 of Karras et al. 2022 (arXiv:2206.00364)</description></item>
/// <item><term>c_k</term><description><see cref="Coefficient"/>; diffusers integrates with scipy's quad, here Gauss-Legendre, exact for these polynomials</description></item>
/// </list>
/// </remarks>
public sealed class LmsScheduler : IScheduler
{
    /// <summary>diffusers' default <c>order</c> argument of <c>step</c>.</summary>
    public const int MaxOrder = 4;

    private readonly SigmaTables _tables;

    public LmsScheduler(SchedulerConfig config) => _tables = new SigmaTables(config, "lms");

    public string Name => "lms";

    public SchedulerConfig Config => _tables.Config;

    public SamplingRun Begin(int numInferenceSteps) => _tables.Track(new Run(_tables.Plan(numInferenceSteps), _tables.PredictionType));

    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _tables.AddNoise(x0, noise, t);

    /// <summary>
    /// The integral over [sigma_i, sigma_{i+1}] of the Lagrange basis polynomial of node sigma_{i-k} through
    /// sigma_i, ..., sigma_{i-order+1}: a polynomial of degree order - 1 &lt;= 3, so 5-point Gauss-Legendre is exact.
    /// </summary>
    public static double Coefficient(IReadOnlyList<double> sigmas, int i, int order, int k)
    {
        ReadOnlySpan<double> nodes = [-0.9061798459386640, -0.5384693101056831, 0, 0.5384693101056831, 0.9061798459386640];
        ReadOnlySpan<double> weights = [0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665, 0.2369268850561891];
        double a = sigmas[i], b = sigmas[i + 1], sum = 0;
        for (int q = 0; q < nodes.Length; q++)
        {
            double tau = (a + b) / 2 + (b - a) / 2 * nodes[q], basis = 1;
            for (int m = 0; m < order; m++)
                if (m != k) basis *= (tau - sigmas[i - m]) / (sigmas[i - k] - sigmas[i - m]);
            sum += weights[q] * basis;
        }
        return sum * (b - a) / 2;
    }

    private sealed class Run(SigmaPlan plan, PredictionType type) : SigmaRun(plan.Timesteps, plan.InitNoiseSigma, type, plan.OneStageLevels())
    {
        private readonly List<torch.Tensor> _derivatives = [];

        protected override double ModelSigma(int stepIndex) => plan.Sigmas[stepIndex];

        protected override StepResult Step(int stepIndex, torch.Tensor modelOutput, torch.Tensor x, SampleGenerators? generators)
        {
            var sigma = plan.Sigmas[stepIndex];
            var x0 = PredictedOriginal(modelOutput, x, sigma);
            _derivatives.Add(((x - x0) / sigma).DetachFromDisposeScope());
            if (_derivatives.Count > MaxOrder) { _derivatives[0].Dispose(); _derivatives.RemoveAt(0); }
            // As diffusers: the order follows the step index, so a run started part-way (img2img) weights its few
            // derivatives with the coefficients of the full order (zip over the shorter list), not a lower order's.
            var order = Math.Min(stepIndex + 1, MaxOrder);
            var prev = x;
            for (int k = 0; k < Math.Min(order, _derivatives.Count); k++) prev = prev + _derivatives[^(k + 1)] * Coefficient(plan.Sigmas, stepIndex, order, k);
            if (IsLast(stepIndex)) { _derivatives.ForEach(d => d.Dispose()); _derivatives.Clear(); }
            return new StepResult(prev, x0);
        }
    }
}
