using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// Ancestral Euler (k-diffusion's <c>sample_euler_ancestral</c>, eta 1), with diffusers'
/// <c>EulerAncestralDiscreteScheduler</c> semantics: an Euler step down to sigma_down, then fresh noise of
/// standard deviation sigma_up, one draw of the sample's shape every step; epsilon or v_prediction (diffusers raises for
/// <c>sample</c>, and so does Diffuse, at creation).
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>sigmaDown, sigmaUp</term><description>the ancestral split of sigma_i → sigma_{i+1}, <see cref="SigmaSchedules.AncestralSplit"/></description></item>
/// <item><term>x0, d</term><description>D(x; sigma) and (x - D) / sigma, Eq. 3 of Karras et al. 2022 (arXiv:2206.00364)</description></item>
/// </list>
/// </remarks>
public sealed class EulerAncestralScheduler : IScheduler
{
    private readonly SigmaTables _tables;

    public EulerAncestralScheduler(SchedulerConfig config) => _tables = new SigmaTables(config, "euler_ancestral", supported: ConfigValidation.EpsilonOrV);

    public string Name => "euler_ancestral";

    /// <summary>epsilon and v_prediction, as diffusers (which raises for <c>sample</c>).</summary>
    public IReadOnlyList<Process.PredictionType> SupportedPredictionTypes => ConfigValidation.EpsilonOrV;

    public SchedulerConfig Config => _tables.Config;

    public SamplingRun Begin(int numInferenceSteps) => new Run(_tables.Plan(numInferenceSteps), _tables.PredictionType);

    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _tables.AddNoise(x0, noise, t);

    private sealed class Run(SigmaPlan plan, Process.PredictionType type) : SigmaRun(plan.Timesteps, plan.InitNoiseSigma, type)
    {
        protected override double ModelSigma(int stepIndex) => plan.Sigmas[stepIndex];

        protected override StepResult Step(int stepIndex, torch.Tensor modelOutput, torch.Tensor x, torch.Generator? generator)
        {
            double sigma = plan.Sigmas[stepIndex];
            var (sigmaDown, sigmaUp) = SigmaSchedules.AncestralSplit(sigma, plan.Sigmas[stepIndex + 1]);
            var x0 = PredictedOriginal(modelOutput, x, sigma);
            var d = (x - x0) / sigma;
            var noise = StepMath.StepNoise(modelOutput, generator, "euler_ancestral");
            return new StepResult(x + d * (sigmaDown - sigma) + noise * sigmaUp, x0);
        }
    }
}
