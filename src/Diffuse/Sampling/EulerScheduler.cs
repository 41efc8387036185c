using Diffuse.Configuration;
using Diffuse.Process;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// Euler's method on the probability-flow ODE in sigma (Karras et al. 2022, arXiv:2206.00364, Algorithm 2
/// without the Heun correction), with diffusers' <c>EulerDiscreteScheduler</c> semantics: <c>linspace</c> timesteps by
/// default, Karras or exponential sigmas on request, final sigma 0 or sigma_min. With <c>s_churn</c> &gt; 0 each step
/// starts from Algorithm 2's churned (x_hat, sigma_hat) (<see cref="Churn"/>, through <see cref="SamplingRun.PrepareStep"/>),
/// which the model sees, where diffusers adds the churn after the model call.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>sigma, sigmaNext</term><description>t_hat_i (sigma_i without churn) and t_{i+1} of Algorithm 2</description></item>
/// <item><term>x0</term><description>D_theta(x; sigma), the denoised sample</description></item>
/// <item><term>d</term><description>d_i = (x_hat_i - D(x_hat_i; t_hat_i)) / t_hat_i, line 7 of Algorithm 2</description></item>
/// </list>
/// </remarks>
public sealed class EulerScheduler : IScheduler
{
    private readonly SigmaTables _tables;

    public EulerScheduler(SchedulerConfig config) => _tables = new SigmaTables(config, "euler", finalSigmaMin: true, takesChurn: true);

    public string Name => "euler";

    public SchedulerConfig Config => _tables.Config;

    public SamplingRun Begin(int numInferenceSteps)
    {
        var plan = _tables.Plan(numInferenceSteps);
        return _tables.Track(new Run(plan, _tables.PredictionType, Churn.For(Config, numInferenceSteps, plan.TrainSigmas, Name)));
    }

    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _tables.AddNoise(x0, noise, t);

    private sealed class Run(SigmaPlan plan, PredictionType type, Churn? churn)
        : SigmaRun(plan.Timesteps, plan.InitNoiseSigma, type, plan.OneStageLevels(), churn)
    {
        protected override double ModelSigma(int stepIndex) => plan.Sigmas[stepIndex];

        protected override double? ChurnLevel(int stepIndex) => plan.Sigmas[stepIndex];

        /// <summary>x_{i+1} = x_hat_i + (t_{i+1} - t_hat_i) d_i (Algorithm 2, line 8).</summary>
        protected override StepResult Step(int stepIndex, torch.Tensor modelOutput, torch.Tensor x, SampleGenerators? generators)
        {
            double sigma = StartSigma(stepIndex, plan.Sigmas[stepIndex]), sigmaNext = plan.Sigmas[stepIndex + 1];
            var x0 = PredictedOriginal(modelOutput, x, sigma);
            var d = (x - x0) / sigma;
            return new StepResult(x + d * (sigmaNext - sigma), x0);
        }
    }
}
