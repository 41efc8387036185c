using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// Ancestral Euler (k-diffusion's <c>sample_euler_ancestral</c>, eta 1), with diffusers'
/// <c>EulerAncestralDiscreteScheduler</c> semantics: an Euler step down to sigma_down, then fresh noise of
/// standard deviation sigma_up, one draw of the sample's shape every step (or, with <c>noise_sampler
/// brownian_tree</c>, a Brownian tree's increment over [sigma_{i+1}, sigma_i], as k-diffusion's noise_sampler);
/// epsilon or v_prediction (diffusers raises for <c>sample</c>, and so does Diffuse, at creation).
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

    public EulerAncestralScheduler(SchedulerConfig config) => _tables = new SigmaTables(config, "euler_ancestral", takesNoiseSampler: true, supported: ConfigValidation.EpsilonOrV);

    public string Name => "euler_ancestral";

    /// <summary>epsilon and v_prediction, as diffusers (which raises for <c>sample</c>).</summary>
    public IReadOnlyList<PredictionType> SupportedPredictionTypes => ConfigValidation.EpsilonOrV;

    public SchedulerConfig Config => _tables.Config;

    public SamplingRun Begin(int numInferenceSteps) => _tables.Track(new Run(_tables.Plan(numInferenceSteps), Config));

    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _tables.AddNoise(x0, noise, t);

    private sealed class Run(SigmaPlan plan, SchedulerConfig config)
        : SigmaRun(plan.Timesteps, plan.InitNoiseSigma, config.PredictionType, plan.OneStageLevels())
    {
        private readonly NoiseSource _noise = new(config.NoiseSampler, plan.Sigmas, "euler_ancestral");

        protected override double ModelSigma(int stepIndex) => plan.Sigmas[stepIndex];

        protected override StepResult Step(int stepIndex, torch.Tensor modelOutput, torch.Tensor x, SampleGenerators? generators)
        {
            double sigma = plan.Sigmas[stepIndex], sigmaNext = plan.Sigmas[stepIndex + 1];
            var (sigmaDown, sigmaUp) = SigmaSchedules.AncestralSplit(sigma, sigmaNext);
            var x0 = PredictedOriginal(modelOutput, x, sigma);
            var d = (x - x0) / sigma;
            var noise = _noise.Draw(modelOutput, sigma, sigmaNext, generators);
            return new StepResult(x + d * (sigmaDown - sigma) + noise * sigmaUp, x0);
        }
    }
}
