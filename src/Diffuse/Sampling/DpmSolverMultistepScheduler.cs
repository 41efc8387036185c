using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// Multistep DPM-Solver (Lu et al. 2022, arXiv:2206.00927) and DPM-Solver++ (Lu et al. 2022,
/// arXiv:2211.01095) with diffusers' <c>DPMSolverMultistepScheduler</c> semantics: <c>solver_order</c> 1-3,
/// <c>algorithm_type</c> dpmsolver / dpmsolver++ / sde-dpmsolver / sde-dpmsolver++ (the SDE ones draw one
/// normal sample per step), <c>solver_type</c> midpoint or heun for the second-order step,
/// <c>lower_order_final</c>, <c>euler_at_final</c>, <c>final_sigmas_type</c>, dynamic thresholding, and
/// Karras or exponential sigmas. The model output is read as x_0 (the ++ variants) or eps; with
/// <c>variance_type</c> learned or learned_range, from the first half of its channels
/// (<see cref="DpmSolverMath.PredictionPart"/>).
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>alphaT, sigmaT, alphaS, sigmaS</term><description>alpha and sigma of the target t and the current s_0</description></item>
/// <item><term>h, r0, r1</term><description>lambda_t - lambda_s0 and the previous step sizes over h (DPM-Solver++, Algorithm 2)</description></item>
/// <item><term>D0, D1, D2</term><description>the model output and its first and second divided differences</description></item>
/// </list>
/// </remarks>
public sealed class DpmSolverMultistepScheduler : IScheduler
{
    private readonly SolverType _solverType;

    public DpmSolverMultistepScheduler(SchedulerConfig config) : this(config, "dpmpp_2m") { }

    /// <summary>Registers the scheduler under <paramref name="name"/> (the registry's SDE aliases).</summary>
    internal DpmSolverMultistepScheduler(SchedulerConfig config, string name)
    {
        ConfigValidation.CheckMultistep(config, name, maxOrder: 3,
            takesNoiseSampler: config.AlgorithmType is AlgorithmType.SdeDpmsolver or AlgorithmType.SdeDpmsolverPlusPlus);
        Name = name;
        Config = config;
        _solverType = config.SolverType ?? SolverType.Midpoint;
        if (_solverType is not (SolverType.Midpoint or SolverType.Heun))
            throw new DiffuseException($"{name}: solver_type must be midpoint or heun, got {_solverType.ToString().ToLowerInvariant()}");
        if (config.AlgorithmType == AlgorithmType.Deis)
            throw new DiffuseException($"{name}: algorithm_type deis is the deis scheduler's; use dpmsolver, dpmsolver++, sde-dpmsolver or sde-dpmsolver++");
        if (!DataPrediction && (config.FinalSigmasType ?? FinalSigmasType.Zero) == FinalSigmasType.Zero)
            throw new DiffuseException($"{name}: final_sigmas_type zero needs algorithm_type dpmsolver++ or sde-dpmsolver++; set final_sigmas_type sigma_min");
        if (config.AlgorithmType == AlgorithmType.SdeDpmsolver && config.SolverOrder == 3)
            throw new DiffuseException($"{name}: algorithm_type sde-dpmsolver has no third-order step; use solver_order 1 or 2");
        Schedule = NoiseSchedule.FromConfig(config);
        _lastRun = MultistepSchedule.TrainingLevels(Schedule);
    }

    private volatile NoiseLevels _lastRun;

    public string Name { get; }
    public bool TakesVarianceChannels => Config.VarianceType is VarianceType.Learned or VarianceType.LearnedRange;

    public SchedulerConfig Config { get; }

    private NoiseSchedule Schedule { get; }
    private bool DataPrediction => DpmSolverMath.DataPrediction(Config.AlgorithmType);
    private bool Stochastic => Config.AlgorithmType is AlgorithmType.SdeDpmsolver or AlgorithmType.SdeDpmsolverPlusPlus;

    public SamplingRun Begin(int numInferenceSteps)
    {
        var schedule = MultistepSchedule.Create(Config, Schedule, numInferenceSteps, Name, roundKarrasTimesteps: Config.BetaSchedule != BetaSchedule.SquaredcosCapV2,
            lambdaMinClipped: Config.LambdaMinClipped);
        _lastRun = schedule.Levels;
        return new Run(this, schedule);
    }

    /// <summary>alpha_t x0 + sigma_t noise at the level of t in the last run begun, else on the training schedule (<see cref="IScheduler.AddNoise"/>).</summary>
    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _lastRun.AddNoise(x0, noise, t);

    /// <summary>The model output as the solver's quantity (x_0 or eps) and as x_0, with dynamic thresholding of x_0.</summary>
    private (torch.Tensor Solver, torch.Tensor Original) Convert(torch.Tensor output, torch.Tensor x, double abar) => DpmSolverMath.Convert(Config, output, x, abar);

    /// <summary>The coefficients of x_t = A x + C0 D0 + C1 D1 + C2 D2 + CNoise z, <see cref="DpmSolverMath.Coefficients"/>.</summary>
    private (double A, double C0, double C1, double C2, double CNoise) Coefficients(double alphaT, double sigmaT, double alphaS, double sigmaS, double h) =>
        DpmSolverMath.Coefficients(Config.AlgorithmType, alphaT, sigmaT, alphaS, sigmaS, h);

    /// <summary>One step of the given order from index i to i + 1, with <paramref name="m"/> the converted outputs, newest last.</summary>
    private torch.Tensor Update(IReadOnlyList<torch.Tensor> m, int order, MultistepSchedule s, int i, torch.Tensor x, torch.Tensor? noise)
    {
        double lambdaS0 = s.Lambda(i), h = s.Lambda(i + 1) - lambdaS0;
        var (a, c0, c1, c2, cNoise) = Coefficients(s.Alpha(i + 1), s.SigmaT(i + 1), s.Alpha(i), s.SigmaT(i), h);
        var d0 = m[^1];
        var prev = x * a + d0 * c0;
        if (order >= 2)
        {
            double lambdaS1 = s.Lambda(i - 1), r0 = (lambdaS0 - lambdaS1) / h;
            var d1From0 = (d0 - m[^2]) * (1 / r0);
            if (order == 2) prev = prev + d1From0 * (_solverType == SolverType.Midpoint ? 0.5 * c0 : c1);
            else
            {
                var r1 = (lambdaS1 - s.Lambda(i - 2)) / h;
                var d1From1 = (m[^2] - m[^3]) * (1 / r1);
                var d1 = d1From0 + (d1From0 - d1From1) * (r0 / (r0 + r1));
                var d2 = (d1From0 - d1From1) * (1 / (r0 + r1));
                prev = prev + d1 * c1 + d2 * c2;
            }
        }
        return noise is null ? prev : prev + noise * cNoise;
    }

    private sealed class Run(DpmSolverMultistepScheduler scheduler, MultistepSchedule schedule) : SamplingRun
    {
        private readonly List<torch.Tensor> _outputs = []; // converted outputs, newest last; owned by the run
        private readonly NoiseSource _noise = new(scheduler.Config.NoiseSampler, schedule.Sigmas, scheduler.Name);
        private int _index = -1, _lowerOrderNums;

        public override torch.Tensor Timesteps => schedule.TimestepsTensor;

        public override torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => schedule.Levels.AddNoise(x0, noise, t);

        public override StepResult Step(torch.Tensor modelOutput, torch.Tensor t, torch.Tensor x, SampleGenerators? generators)
        {
            modelOutput = DpmSolverMath.PredictionPart(scheduler.Config, modelOutput, x, scheduler.Name);
            var c = scheduler.Config;
            _index = schedule.NextIndex(_index, StepMath.Timestep(t, c.NumTrainTimesteps), scheduler.Name);
            int n = schedule.Count, i = _index;
            // The SDE step's noise z enters as sigma_t sqrt(1 - e^{-2h}) z, which in Karras' x = x0 + sigma eps is
            // sigma_{i+1} sqrt(1 - e^{-2h}) z: k-diffusion's sample_dpmpp_2m_sde, with z = noise_sampler(sigma_i, sigma_{i+1}).
            var noise = scheduler.Stochastic ? _noise.Draw(modelOutput, schedule.Sigma(i), schedule.Sigma(i + 1), generators) : null;
            var lowerFinal = i == n - 1 && (c.EulerAtFinal || ((c.LowerOrderFinal ?? true) && n < 15) || schedule.EndsAtZero);
            var lowerSecond = i == n - 2 && (c.LowerOrderFinal ?? true) && n < 15;
            var (solver, original) = scheduler.Convert(modelOutput, x, schedule.AlphaCumprod(i));
            _outputs.Add(solver.DetachFromDisposeScope());
            if (_outputs.Count > c.SolverOrder) { _outputs[0].Dispose(); _outputs.RemoveAt(0); }
            var order = c.SolverOrder == 1 || _lowerOrderNums < 1 || lowerFinal ? 1
                : c.SolverOrder == 2 || _lowerOrderNums < 2 || lowerSecond ? 2 : 3;
            var prev = scheduler.Update(_outputs, order, schedule, i, x, noise);
            _lowerOrderNums = Math.Min(_lowerOrderNums + 1, c.SolverOrder);
            if (i == n - 1) { _outputs.ForEach(o => o.Dispose()); _outputs.Clear(); }
            return new StepResult(prev, original);
        }
    }
}
