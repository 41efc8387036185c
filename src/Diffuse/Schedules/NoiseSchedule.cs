using Diffuse.Configuration;
using TorchSharp;

namespace Diffuse.Schedules;

/// <summary>
/// The forward-process noise schedule of a discrete diffusion model: betas and the tables derived
/// from them. Immutable and safe to share.
/// </summary>
/// <remarks>
/// The tables are computed the way diffusers computes them (float32 torch ops for the betas, the
/// alphas and their cumulative product), so that schedulers built on them reproduce diffusers'
/// numbers; they are stored as doubles.
/// <list type="table">
/// <item><term>beta_t</term><description><see cref="Betas"/>, the variance added at step t (Ho et al. 2020, Eq. 2)</description></item>
/// <item><term>alpha_t</term><description><see cref="Alphas"/> = 1 - beta_t</description></item>
/// <item><term>abar_t</term><description><see cref="AlphasCumprod"/> = prod_{s &lt;= t} alpha_s (Ho et al. 2020, Eq. 4)</description></item>
/// <item><term>SNR(t)</term><description><see cref="Snr"/> = abar_t / (1 - abar_t) (Kingma et al. 2021)</description></item>
/// <item><term>sigma_t</term><description><see cref="Sigma"/> = sqrt((1 - abar_t) / abar_t), the sigma of Karras et al. 2022</description></item>
/// </list>
/// </remarks>
public sealed class NoiseSchedule
{
    private readonly double[] _betas;
    private readonly double[] _alphas;
    private readonly double[] _alphasCumprod;
    private readonly CachedTable _alphasCumprodTable;

    private NoiseSchedule(double[] betas, double[] alphas, double[] alphasCumprod)
    {
        _betas = betas;
        _alphas = alphas;
        _alphasCumprod = alphasCumprod;
        _alphasCumprodTable = new CachedTable(alphasCumprod, torch.float32);
    }

    /// <summary>The number of training timesteps T; timesteps are 0 .. T-1.</summary>
    public int NumTrainTimesteps => _betas.Length;

    /// <summary>beta_t for t in [0, T). A copy: the schedule stays immutable.</summary>
    public double[] Betas => (double[])_betas.Clone();

    /// <summary>alpha_t = 1 - beta_t. A copy.</summary>
    public double[] Alphas => (double[])_alphas.Clone();

    /// <summary>abar_t, the cumulative product of the alphas. A copy.</summary>
    public double[] AlphasCumprod => (double[])_alphasCumprod.Clone();

    /// <summary>beta_t without copying the table.</summary>
    public double Beta(int t) => _betas[CheckT(t)];

    /// <summary>abar_t without copying the table.</summary>
    public double AlphaCumprod(int t) => _alphasCumprod[CheckT(t)];

    /// <summary>The signal-to-noise ratio abar_t / (1 - abar_t); 0 at a zero-terminal-SNR last step.</summary>
    public double Snr(int t) => _alphasCumprod[CheckT(t)] / (1 - _alphasCumprod[t]);

    /// <summary>sqrt((1 - abar_t) / abar_t), the noise level of k-diffusion and Karras et al. 2022; infinite where abar_t = 0.</summary>
    public double Sigma(int t) => Math.Sqrt((1 - _alphasCumprod[CheckT(t)]) / _alphasCumprod[t]);

    /// <summary>
    /// abar as a float32 tensor [T] on <paramref name="device"/> (CPU when null), for gathers. The
    /// schedule keeps one tensor per device; each call returns a new alias of it that the caller
    /// owns (a dispose scope may dispose it). The storage is shared: never modify it in place.
    /// </summary>
    public torch.Tensor AlphasCumprodTensor(torch.Device? device = null) => _alphasCumprodTable.Get(device);

    /// <summary>The schedule a scheduler config describes.</summary>
    public static NoiseSchedule FromConfig(SchedulerConfig c) =>
        Create(c.BetaSchedule, c.NumTrainTimesteps, c.BetaStart, c.BetaEnd, c.RescaleBetasZeroSnr);

    /// <summary>Builds the schedule named by <paramref name="schedule"/> over <paramref name="numTrainTimesteps"/> steps.</summary>
    /// <param name="rescaleZeroTerminalSnr">Rescale so that abar at the last step is exactly 0 (Lin et al. 2023, Algorithm 1); needs T &gt;= 2.</param>
    public static NoiseSchedule Create(BetaSchedule schedule, int numTrainTimesteps, double betaStart = 1e-4, double betaEnd = 0.02,
        bool rescaleZeroTerminalSnr = false)
    {
        if (numTrainTimesteps < 1)
            throw new DiffuseException($"num_train_timesteps must be at least 1, got {numTrainTimesteps}");
        if (schedule != BetaSchedule.SquaredcosCapV2 && !(betaStart > 0 && betaStart <= 1 && betaEnd > 0 && betaEnd <= 1))
            throw new DiffuseException($"beta_start and beta_end must lie in (0, 1], got {betaStart} and {betaEnd}");
        if (rescaleZeroTerminalSnr && numTrainTimesteps < 2)
            throw new DiffuseException("rescale_betas_zero_snr needs num_train_timesteps >= 2");

        using var _ = torch.NewDisposeScope();
        var betas = schedule switch
        {
            BetaSchedule.Linear => torch.linspace(betaStart, betaEnd, numTrainTimesteps, torch.float32),
            BetaSchedule.ScaledLinear => torch.linspace(Math.Sqrt(betaStart), Math.Sqrt(betaEnd), numTrainTimesteps, torch.float32).square(),
            BetaSchedule.SquaredcosCapV2 => torch.tensor(BetasForAlphaBar(numTrainTimesteps, CosineAlphaBar), torch.float32),
            BetaSchedule.Sigmoid => torch.linspace(-6, 6, numTrainTimesteps, torch.float32).sigmoid() * (betaEnd - betaStart) + betaStart,
            _ => throw new DiffuseException($"unsupported beta_schedule '{schedule}'"),
        };
        if (rescaleZeroTerminalSnr) betas = RescaleZeroTerminalSnr(betas);
        var alphas = 1.0 - betas;
        var alphasCumprod = alphas.cumprod(0);

        var b = ToDoubles(betas);
        for (var t = 0; t < b.Length; t++)
            if (!(b[t] > 0 && b[t] <= 1))
                throw new DiffuseException($"beta at timestep {t} is {b[t]}; every beta must lie in (0, 1]");
        return new NoiseSchedule(b, ToDoubles(alphas), ToDoubles(alphasCumprod));
    }

    /// <summary>
    /// Betas that discretise a continuous abar(s), s in [0, 1]: beta_i = min(1 - abar((i+1)/T) / abar(i/T), maxBeta)
    /// (Nichol &amp; Dhariwal 2021, Eq. 17 and the clipping below it).
    /// </summary>
    public static double[] BetasForAlphaBar(int numTrainTimesteps, Func<double, double> alphaBar, double maxBeta = 0.999)
    {
        var betas = new double[numTrainTimesteps];
        for (var i = 0; i < numTrainTimesteps; i++)
        {
            var t1 = (double)i / numTrainTimesteps;
            var t2 = (double)(i + 1) / numTrainTimesteps;
            betas[i] = Math.Min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
        }
        return betas;
    }

    /// <summary>The cosine abar(s) = cos^2(((s + 0.008) / 1.008) pi/2) (Nichol &amp; Dhariwal 2021, Eq. 17, offset s = 0.008), without the f(0) normalisation, which cancels in the ratio.</summary>
    public static double CosineAlphaBar(double s) => Math.Pow(Math.Cos((s + 0.008) / 1.008 * Math.PI / 2), 2);

    /// <summary>
    /// Algorithm 1 of Lin et al. 2023 (arXiv:2305.08891): shift and scale sqrt(abar) so that it keeps its
    /// first value and ends at exactly 0, then turn it back into betas (the last beta becomes 1).
    /// </summary>
    private static torch.Tensor RescaleZeroTerminalSnr(torch.Tensor betas)
    {
        var sqrtAbar = (1.0 - betas).cumprod(0).sqrt();
        var n = sqrtAbar.shape[0];
        var first = sqrtAbar[0].clone();
        var last = sqrtAbar[n - 1].clone();
        sqrtAbar = (sqrtAbar - last) * (first / (first - last));
        var abar = sqrtAbar.square();
        var alphas = torch.cat([abar.narrow(0, 0, 1), abar.narrow(0, 1, n - 1) / abar.narrow(0, 0, n - 1)]);
        return 1.0 - alphas;
    }

    private static double[] ToDoubles(torch.Tensor t) => t.to(torch.float64).data<double>().ToArray();

    private int CheckT(int t) => t >= 0 && t < _betas.Length ? t
        : throw new DiffuseException($"timestep {t} is outside [0, {_betas.Length})");
}
