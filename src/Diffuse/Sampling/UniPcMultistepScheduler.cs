using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// UniPC (Zhao et al. 2023, arXiv:2302.04867) with diffusers' <c>UniPCMultistepScheduler</c> semantics in its
/// data-prediction form (<c>predict_x0</c>): a UniP predictor of order <c>solver_order</c> and, from the second
/// step on, a UniC corrector of the previous step's order, with <c>solver_type</c> bh1 (B(h) = h) or bh2
/// (B(h) = e^h - 1), <c>lower_order_final</c>, <c>final_sigmas_type</c>, thresholding, Karras or exponential
/// sigmas. No step is exempt from the corrector (diffusers' <c>disable_corrector</c> empty).
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>h, hh</term><description>lambda_t - lambda_s0 and -h (Algorithm 5, data prediction)</description></item>
/// <item><term>rk, D1</term><description>r_k = (lambda_{s_k} - lambda_s0) / h and D_k = (m_k - m_0) / r_k (Eq. 7)</description></item>
/// <item><term>R, b</term><description>R_p(h) with rows r_k^(i-1) and g_i(h) i! / B(h), solved for the rho weights (Eq. 8)</description></item>
/// <item><term>bH, hPhi1</term><description>B(h) and h phi_1(h) = e^hh - 1</description></item>
/// </list>
/// </remarks>
public sealed class UniPcMultistepScheduler : IScheduler
{
    private readonly NoiseSchedule _schedule;
    private volatile NoiseLevels _lastRun;
    private readonly SolverType _solverType;

    public UniPcMultistepScheduler(SchedulerConfig config)
    {
        ConfigValidation.CheckMultistep(config, "unipc", maxOrder: 3);
        Config = config;
        _solverType = config.SolverType ?? SolverType.Bh2;
        if (_solverType is not (SolverType.Bh1 or SolverType.Bh2))
            throw new DiffuseException($"unipc: solver_type must be bh1 or bh2, got {_solverType.ToString().ToLowerInvariant()}");
        // Above order 1 the last step divides by r_k = (lambda_s - lambda_s0) / h = 0 when sigma ends at 0 (h infinite).
        if (!(config.LowerOrderFinal ?? true) && config.SolverOrder > 1 && (config.FinalSigmasType ?? FinalSigmasType.Zero) == FinalSigmasType.Zero)
            throw new DiffuseException("unipc: lower_order_final false with final_sigmas_type zero gives a non-finite last step (as in diffusers); set final_sigmas_type sigma_min or lower_order_final true");
        _schedule = NoiseSchedule.FromConfig(config);
        _lastRun = MultistepSchedule.TrainingLevels(_schedule);
    }

    public string Name => "unipc";

    public SchedulerConfig Config { get; }

    public SamplingRun Begin(int numInferenceSteps)
    {
        var schedule = MultistepSchedule.Create(Config, _schedule, numInferenceSteps, Name);
        _lastRun = schedule.Levels;
        return new Run(this, schedule);
    }

    /// <summary>alpha_t x0 + sigma_t noise at the level of t in the last run begun, else on the training schedule (<see cref="IScheduler.AddNoise"/>).</summary>
    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _lastRun.AddNoise(x0, noise, t);

    private torch.Tensor PredictedOriginal(torch.Tensor output, torch.Tensor x, double abar)
    {
        var x0 = GaussianDiffusion.PredictedOriginal(Config.PredictionType, output, x, abar);
        return Config.Thresholding ? StepMath.DynamicThreshold(x0, Config.DynamicThresholdingRatio, Config.SampleMaxValue) : x0;
    }

    /// <summary>
    /// UniP (<paramref name="modelT"/> null) or UniC of the given order from index s0 to <paramref name="target"/>
    /// (Zhao et al. 2023, Algorithms 5-6), with <paramref name="m"/> the x_0 predictions, the one at s0 last.
    /// </summary>
    private torch.Tensor UniBh(IReadOnlyList<torch.Tensor> m, int order, MultistepSchedule s, int s0, int target, torch.Tensor x, torch.Tensor? modelT)
    {
        double alphaT = s.Alpha(target), lambdaS0 = s.Lambda(s0), h = s.Lambda(target) - lambdaS0, hh = -h;
        double hPhi1 = Math.Exp(hh) - 1, bH = _solverType == SolverType.Bh1 ? hh : hPhi1;
        var m0 = m[^1];
        var k = order - 1; // earlier points used
        var rks = Enumerable.Range(1, k).Select(i => (s.Lambda(s0 - i) - lambdaS0) / h).Append(1.0).ToArray();
        var R = new double[order, order];
        var b = new double[order];
        double hPhiK = hPhi1 / hh - 1, factorial = 1;
        for (var i = 1; i <= order; i++)
        {
            for (var j = 0; j < order; j++) R[i - 1, j] = Math.Pow(rks[j], i - 1);
            b[i - 1] = hPhiK * factorial / bH;
            factorial *= i + 1;
            hPhiK = hPhiK / hh - 1 / factorial;
        }
        double[] rhos = modelT is null
            ? k == 0 ? [] : order == 2 ? [0.5] : StepMath.Solve(Leading(R, k), b[..k])
            : order == 1 ? [0.5] : StepMath.Solve(R, b);
        var prev = x * (s.SigmaT(target) / s.SigmaT(s0)) - m0 * (alphaT * hPhi1);
        torch.Tensor? correction = null;
        for (var i = 0; i < k; i++)
        {
            var term = (m[^(i + 2)] - m0) * (rhos[i] / rks[i]);
            correction = correction is null ? term : correction + term;
        }
        if (modelT is not null) correction = correction is null ? (modelT - m0) * rhos[k] : correction + (modelT - m0) * rhos[k];
        return correction is null ? prev : prev - correction * (alphaT * bH);
    }

    private static double[,] Leading(double[,] a, int n)
    {
        var r = new double[n, n];
        for (var i = 0; i < n; i++) for (var j = 0; j < n; j++) r[i, j] = a[i, j];
        return r;
    }

    private sealed class Run(UniPcMultistepScheduler scheduler, MultistepSchedule schedule) : SamplingRun
    {
        private readonly List<torch.Tensor> _outputs = []; // x_0 predictions, newest last; owned by the run
        private torch.Tensor? _lastSample;
        private int _index = -1, _lowerOrderNums, _thisOrder;

        public override torch.Tensor Timesteps => schedule.TimestepsTensor;

        public override torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => schedule.Levels.AddNoise(x0, noise, t);

        public override StepResult Step(torch.Tensor modelOutput, torch.Tensor t, torch.Tensor x, SampleGenerators? generators)
        {
            var c = scheduler.Config;
            _index = schedule.NextIndex(_index, StepMath.Timestep(t, c.NumTrainTimesteps), scheduler.Name);
            int n = schedule.Count, i = _index;
            var x0 = scheduler.PredictedOriginal(modelOutput, x, schedule.AlphaCumprod(i));
            if (i > 0 && _lastSample is not null) x = scheduler.UniBh(_outputs, _thisOrder, schedule, i - 1, i, _lastSample, x0);
            _outputs.Add(x0.alias().DetachFromDisposeScope());
            if (_outputs.Count > c.SolverOrder) { _outputs[0].Dispose(); _outputs.RemoveAt(0); }
            _thisOrder = Math.Min((c.LowerOrderFinal ?? true) ? Math.Min(c.SolverOrder, n - i) : c.SolverOrder, _lowerOrderNums + 1);
            _lastSample?.Dispose();
            _lastSample = x.alias().DetachFromDisposeScope();
            var prev = scheduler.UniBh(_outputs, _thisOrder, schedule, i, i + 1, x, null);
            _lowerOrderNums = Math.Min(_lowerOrderNums + 1, c.SolverOrder);
            if (i == n - 1) End();
            return new StepResult(prev, x0);
        }

        private void End()
        {
            _outputs.ForEach(o => o.Dispose());
            _outputs.Clear();
            _lastSample?.Dispose();
            _lastSample = null;
        }
    }
}
