function cases = test_mex_gateway()
% Bad calls to the MEX gateway itself (bypassing the .m files' checks) must
% raise an error with a tconv:mex identifier, never crash Octave or touch
% memory outside the arrays. scripts/test-octave.sh runs this file in its
% own Octave process: a crash fails it instead of passing silently. The
% last case checks that the gateway still works after all of them.
  cfg = [2 3 4 5 6 2 3 1 1 1 1 1 0 0 0 0 0];   % N C H W F kh kw s d g same crops
  X = randn(4, 5, 3, 2);
  W = randn(2, 3, 6, 3);
  B = randn(1, 1, 6);
  big = cfg; big([1 2 3 4]) = 2^40;               % element counts overflow
  bad = {
    'no_arguments', {}, 'InvalidCommand'
    'numeric_command', {42}, 'InvalidCommand'
    'unknown_command', {'fwd'}, 'InvalidCommand'
    'long_command', {repmat('x', 1, 1000)}, 'InvalidCommand'
    'too_few_inputs', {'forward', cfg, X}, 'WrongNumberOfArguments'
    'too_many_inputs', {'forward', cfg, X, W, B, B}, 'WrongNumberOfArguments'
    'cfg_short', {'forward', cfg(1:5), X, W, B}, 'InvalidSize'
    'cfg_single', {'forward', single(cfg), X, W, B}, 'InvalidClass'
    'cfg_complex', {'forward', complex(cfg), X, W, B}, 'InvalidClass'
    'cfg_cell', {'forward', num2cell(cfg), X, W, B}, 'InvalidClass'
    'cfg_fraction', {'forward', [cfg(1:4) 6.5 cfg(6:end)], X, W, B}, 'InvalidArgument'
    'cfg_nan', {'forward', [NaN cfg(2:end)], X, W, B}, 'InvalidArgument'
    'cfg_inf', {'forward', [cfg(1:2) Inf cfg(4:end)], X, W, B}, 'InvalidArgument'
    'cfg_huge', {'forward', [cfg(1:2) 1e300 cfg(4:end)], X, W, B}, 'InvalidArgument'
    'cfg_zero_size', {'forward', [0 cfg(2:end)], X, W, B}, 'InvalidArgument'
    'cfg_negative_stride', {'forward', [cfg(1:7) -2 cfg(9:end)], X, W, B}, 'InvalidArgument'
    'cfg_overflow', {'forward', big, X, W, B}, 'Overflow'
    'cfg_groups_not_dividing', {'forward', [cfg(1:11) 4 cfg(13:end)], X, W, B}, 'InvalidArgument'
    'x_int32', {'forward', cfg, int32(X), W, B}, 'InvalidClass'
    'x_complex', {'forward', cfg, complex(X), W, B}, 'InvalidClass'
    'x_sparse', {'forward', cfg, sparse(X(:, :, 1)), W, B}, 'InvalidClass'
    'x_logical', {'forward', cfg, X > 0, W, B}, 'InvalidClass'
    'x_struct', {'forward', cfg, struct('a', 1), W, B}, 'InvalidClass'
    'x_too_small', {'forward', cfg, X(:, :, :, 1), W, B}, 'InvalidSize'
    'x_too_large', {'forward', cfg, randn(40, 50, 3, 2), W, B}, 'InvalidSize'
    'x_same_count_other_shape', {'forward', cfg, reshape(X, 5, 4, 3, 2), W, B}, 'InvalidSize'
    'x_empty', {'forward', cfg, [], W, B}, 'InvalidSize'
    'w_class_mixed', {'forward', cfg, X, single(W), B}, 'InvalidClass'
    'w_too_small', {'forward', cfg, X, W(:, :, 1:5, :), B}, 'InvalidSize'
    'w_extra_dimension', {'forward', cfg, X, cat(5, W, W), B}, 'InvalidSize'
    'bias_too_short', {'forward', cfg, X, W, B(1:5)}, 'InvalidSize'
    'bias_single', {'forward', cfg, X, W, single(B)}, 'InvalidClass'
    'bias_cell', {'forward', cfg, X, W, {B}}, 'InvalidClass'
    'dy_too_small', {'backward_data', cfg, randn(2, 2, 6, 2), W}, 'InvalidSize'
    'dy_int', {'backward_data', cfg, int16(ones(5, 7, 6, 2)), W}, 'InvalidClass'
    'bwd_weights_dy_wrong', {'backward_weights', cfg, X, randn(5, 7, 5, 2)}, 'InvalidSize'
    'init_unknown_kind', {'init_weights', cfg, 'orthogonal', 1, 'single'}, 'InvalidArgument'
    'init_kind_numeric', {'init_weights', cfg, 3, 1, 'single'}, 'InvalidArgument'
    'init_negative_seed', {'init_weights', cfg, 'glorot', -1, 'single'}, 'InvalidArgument'
    'init_seed_vector', {'init_weights', cfg, 'glorot', [1 2], 'single'}, 'InvalidArgument'
    'init_bad_class', {'init_weights', cfg, 'glorot', 1, 'int8'}, 'InvalidArgument'
    'init_bias_glorot', {'init_bias', cfg, 'glorot', 1, 'single'}, 'InvalidArgument'
    'sgdm_factors_short', {'sgdm', cfg, [1 1 1], [0.1 0.9 0], W, W, [], B, B, []}, 'InvalidSize'
    'sgdm_negative_rate', {'sgdm', cfg, [1 1 1 0], [-0.1 0.9 0], W, W, [], B, B, []}, 'InvalidArgument'
    'sgdm_momentum_one', {'sgdm', cfg, [1 1 1 0], [0.1 1 0], W, W, [], B, B, []}, 'InvalidArgument'
    'sgdm_dw_wrong_size', {'sgdm', cfg, [1 1 1 0], [0.1 0.9 0], W, W(:, :, 1, :), [], B, B, []}, 'InvalidSize'
    'sgdm_velocity_wrong_size', {'sgdm', cfg, [1 1 1 0], [0.1 0.9 0], W, W, B, B, B, []}, 'InvalidSize'
    'sgdm_velocity_class', {'sgdm', cfg, [1 1 1 0], [0.1 0.9 0], W, W, single(W), B, B, []}, 'InvalidClass'
    'output_size_bad_crop', {'output_size', [cfg(1:13) 100 0 0 0]}, 'InvalidArgument'
    'version_with_argument', {'version', 1}, 'WrongNumberOfArguments'
  };
  cases = cell(size(bad, 1) + 2, 2);
  for i = 1:size(bad, 1)
    args = bad{i, 2};
    id = ['tconv:mex:' bad{i, 3}];
    cases(i, :) = {bad{i, 1}, @() tconv_assert_error(@() tconv_mex(args{:}), id)};
  end
  cases(end - 1, :) = {'too_many_outputs', @too_many_outputs};
  cases(end, :) = {'still_works_afterwards', @() still_works(cfg, X, W, B)};
end

function too_many_outputs()
  cfg = [2 3 4 5 6 2 3 1 1 1 1 1 0 0 0 0 0];
  tconv_assert_error(@() call_two_outputs(cfg), 'tconv:mex:WrongNumberOfArguments');
end

function call_two_outputs(cfg)
  [a, b] = tconv_mex('output_size', cfg); %#ok<ASGLU>
end

function still_works(cfg, X, W, B)
  Y = tconv_mex('forward', cfg, X, W, B);
  tconv_assert_close(Y, tconv_ref(X, W, B, [1 1], [1 1], [0 0 0 0]), 1e-12, 'forward');
  assert(isequal(tconv_mex('output_size', cfg), [5 7]));
  assert(ischar(tconv_mex('version')));
  % an empty bias of another class is no bias
  tconv_assert_close(tconv_mex('forward', cfg, single(X), single(W), []), ...
                     tconv_ref(X, W, [], [1 1], [1 1], [0 0 0 0]), 1e-5, 'no bias');
end
