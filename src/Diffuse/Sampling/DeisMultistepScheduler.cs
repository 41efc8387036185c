using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// Multistep DEIS (Zhang &amp; Chen 2023, arXiv:2204.13902) with diffusers' <c>DEISMultistepScheduler</c>
/// semantics: the exponential integrator of the eps-form probability-flow ODE, which in x / alpha_t and
/// rho = sigma_t / alpha_t reads d(x / alpha) = eps d rho, with eps extrapolated from the last
/// <c>solver_order</c> (1-3) outputs by a Lagrange polynomial in log rho and integrated exactly
/// (<c>solver_type</c> logrho, the authors' rho AB-DEIS). The model output is turned into x_0 (dynamic
/// thresholding applies there) and back into eps. <c>lower_order_final</c> below 15 steps, Karras or
/// exponential sigmas. As diffusers, <c>algorithm_type</c> dpmsolver / dpmsolver++ are read as deis and the SDE
/// ones refused, any known <c>solver_type</c> is read as logrho, and a run always ends at the smallest
/// training sigma (final_sigmas_type sigma_min; zero is refused). Keys DEIS does not read (eta,
/// clip_sample, euler_at_final, set_alpha_to_one, ...) are ignored.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>alpha, sigma_t, rho</term><description>x_t = alpha x_0 + sigma_t eps, rho = sigma_t / alpha (Zhang &amp; Chen 2023, Sec. 3)</description></item>
/// <item><term>m0, m1, m2</term><description>eps at s0 (the current step), s1 and s2 (earlier steps)</description></item>
/// <item><term>c_k</term><description>the integral from rho_s0 to rho_t of the Lagrange basis polynomial in log rho of node s_k</description></item>
/// </list>
/// </remarks>
public sealed class DeisMultistepScheduler : IScheduler
{
    private readonly NoiseSchedule _schedule;

    public DeisMultistepScheduler(SchedulerConfig config)
    {
        ConfigValidation.CheckMultistep(config, "deis", maxOrder: 3);
        if (config.AlgorithmType is not (AlgorithmType.Deis or AlgorithmType.Dpmsolver or AlgorithmType.DpmsolverPlusPlus))
            throw new DiffuseException($"deis: algorithm_type must be deis (dpmsolver and dpmsolver++ are read as deis, as diffusers does), got {Json.Name(config.AlgorithmType)}");
        if (config.FinalSigmasType == FinalSigmasType.Zero)
            throw new DiffuseException("deis: final_sigmas_type zero is not supported; diffusers' DEIS always ends at the smallest training sigma (sigma_min)");
        Config = config;
        _schedule = NoiseSchedule.FromConfig(config);
        _lastRun = MultistepSchedule.TrainingLevels(_schedule);
    }

    private volatile NoiseLevels _lastRun;

    public string Name => "deis";

    public SchedulerConfig Config { get; }

    public SamplingRun Begin(int numInferenceSteps)
    {
        var schedule = MultistepSchedule.Create(Config with { FinalSigmasType = FinalSigmasType.SigmaMin }, _schedule, numInferenceSteps, Name);
        _lastRun = schedule.Levels;
        return new Run(this, schedule);
    }

    /// <summary>alpha_t x0 + sigma_t noise at the level of t in the last run begun, else on the training schedule (<see cref="IScheduler.AddNoise"/>), as diffusers' DEIS.</summary>
    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _lastRun.AddNoise(x0, noise, t);

    /// <summary>The model output as eps, through x_0 (thresholded when <c>thresholding</c>) as diffusers' <c>convert_model_output</c>, and x_0.</summary>
    private (torch.Tensor Eps, torch.Tensor Original) Convert(torch.Tensor output, torch.Tensor x, MultistepSchedule s, int i)
    {
        var x0 = GaussianDiffusion.PredictedOriginal(Config.PredictionType, output, x, s.AlphaCumprod(i));
        if (Config.Thresholding) x0 = StepMath.DynamicThreshold(x0, Config.DynamicThresholdingRatio, Config.SampleMaxValue);
        return ((x - x0 * s.Alpha(i)) / s.SigmaT(i), x0);
    }

    /// <summary>
    /// One step of the given order from index i to i + 1, with <paramref name="m"/> the eps outputs, newest last.
    /// Order 1 is DDIM, x_t = (alpha_t / alpha_s) x - sigma_t (e^h - 1) eps; orders 2 and 3 are
    /// x_t = alpha_t (x / alpha_s0 + sum_k c_k m_k).
    /// </summary>
    private static torch.Tensor Update(IReadOnlyList<torch.Tensor> m, int order, MultistepSchedule s, int i, torch.Tensor x)
    {
        double alphaT = s.Alpha(i + 1), alphaS0 = s.Alpha(i);
        if (order == 1) return x * (alphaT / alphaS0) - m[^1] * (s.SigmaT(i + 1) * (Math.Exp(s.Lambda(i + 1) - s.Lambda(i)) - 1));
        double Rho(int k) => s.SigmaT(k) / s.Alpha(k);
        var nodes = Enumerable.Range(0, order).Select(k => Rho(i - k)).ToArray(); // rho_s0, rho_s1, (rho_s2)
        var sum = x / alphaS0;
        for (var k = 0; k < order; k++)
            sum = sum + m[^(k + 1)] * LogRhoWeight(nodes, k, Rho(i + 1));
        return sum * alphaT;
    }

    /// <summary>
    /// c_k: the integral over rho from nodes[0] to <paramref name="rhoT"/> of the Lagrange basis polynomial in
    /// u = log rho that is 1 at node k and 0 at the other one or two nodes. With the antiderivatives
    /// rho (u - 1) of u and rho (u^2 - 2u + 2) of u^2, as diffusers' <c>ind_fn</c>.
    /// </summary>
    private static double LogRhoWeight(double[] nodes, int k, double rhoT)
    {
        var u = nodes.Select(r => Math.Log(r)).ToArray();
        var others = Enumerable.Range(0, u.Length).Where(j => j != k).Select(j => u[j]).ToArray();
        var denominator = others.Aggregate(1.0, (p, o) => p * (u[k] - o));
        double Antiderivative(double rho)
        {
            var lr = Math.Log(rho);
            return others.Length == 1
                ? rho * (lr - 1 - others[0])
                : rho * (lr * lr - 2 * lr + 2 - (others[0] + others[1]) * (lr - 1) + others[0] * others[1]);
        }
        return (Antiderivative(rhoT) - Antiderivative(nodes[0])) / denominator;
    }

    private sealed class Run(DeisMultistepScheduler scheduler, MultistepSchedule schedule) : SamplingRun
    {
        private readonly List<torch.Tensor> _outputs = []; // eps outputs, newest last; owned by the run
        private int _index = -1, _lowerOrderNums;

        public override torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => schedule.Levels.AddNoise(x0, noise, t);

        public override torch.Tensor Timesteps => schedule.TimestepsTensor;

        public override StepResult Step(torch.Tensor modelOutput, torch.Tensor t, torch.Tensor x, SampleGenerators? generators)
        {
            var c = scheduler.Config;
            _index = schedule.NextIndex(_index, StepMath.Timestep(t, c.NumTrainTimesteps), scheduler.Name);
            int n = schedule.Count, i = _index;
            var lowerFinal = i == n - 1 && (c.LowerOrderFinal ?? true) && n < 15;
            var lowerSecond = i == n - 2 && (c.LowerOrderFinal ?? true) && n < 15;
            var (eps, original) = scheduler.Convert(modelOutput, x, schedule, i);
            _outputs.Add(eps.DetachFromDisposeScope());
            if (_outputs.Count > c.SolverOrder) { _outputs[0].Dispose(); _outputs.RemoveAt(0); }
            var order = c.SolverOrder == 1 || _lowerOrderNums < 1 || lowerFinal ? 1
                : c.SolverOrder == 2 || _lowerOrderNums < 2 || lowerSecond ? 2 : 3;
            var prev = Update(_outputs, order, schedule, i, x);
            _lowerOrderNums = Math.Min(_lowerOrderNums + 1, c.SolverOrder);
            if (i == n - 1) { _outputs.ForEach(o => o.Dispose()); _outputs.Clear(); }
            return new StepResult(prev, original);
        }
    }
}
