using Diffuse.Configuration;
using Diffuse.Process;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// Euler's method on the probability-flow ODE in sigma (Karras et al. 2022, arXiv:2206.00364, Algorithm 2
/// without churn and without the Heun correction), with diffusers' <c>EulerDiscreteScheduler</c> semantics:
/// <c>linspace</c> timesteps by default, Karras or exponential sigmas on request, final sigma 0 or sigma_min.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>sigma, sigmaNext</term><description>sigma_i and sigma_{i+1} of Algorithm 2</description></item>
/// <item><term>x0</term><description>D_theta(x; sigma), the denoised sample</description></item>
/// <item><term>d</term><description>d_i = (x_i - D(x_i; sigma_i)) / sigma_i, Eq. 3 (line 4 of Algorithm 2)</description></item>
/// </list>
/// </remarks>
public sealed class EulerScheduler : IScheduler
{
    private readonly SigmaTables _tables;

    public EulerScheduler(SchedulerConfig config) => _tables = new SigmaTables(config, "euler", finalSigmaMin: true);

    public string Name => "euler";

    public SchedulerConfig Config => _tables.Config;

    public SamplingRun Begin(int numInferenceSteps) => _tables.Track(new Run(_tables.Plan(numInferenceSteps), _tables.PredictionType));

    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _tables.AddNoise(x0, noise, t);

    private sealed class Run(SigmaPlan plan, PredictionType type) : SigmaRun(plan.Timesteps, plan.InitNoiseSigma, type, plan.OneStageLevels())
    {
        protected override double ModelSigma(int stepIndex) => plan.Sigmas[stepIndex];

        /// <summary>x_{i+1} = x_i + (sigma_{i+1} - sigma_i) d_i (Algorithm 2, line 5).</summary>
        protected override StepResult Step(int stepIndex, torch.Tensor modelOutput, torch.Tensor x, SampleGenerators? generators)
        {
            double sigma = plan.Sigmas[stepIndex], sigmaNext = plan.Sigmas[stepIndex + 1];
            var x0 = PredictedOriginal(modelOutput, x, sigma);
            var d = (x - x0) / sigma;
            return new StepResult(x + d * (sigmaNext - sigma), x0);
        }
    }
}
